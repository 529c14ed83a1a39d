package io.tandem.model.chat;

import com.hubspot.jinjava.objects.SafeString;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

import java.beans.FeatureDescriptor;
import java.util.Iterator;

/** Lets templates call Python string methods on strings ({@code s.strip()}, {@code s.startswith(x)}...). */
final class PythonStringResolver extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        String s = base instanceof String str ? str : base instanceof SafeString safe ? safe.toString() : null;
        if (s == null || !(method instanceof String name)) return null;
        Object result = PythonStrings.call(s, name, params == null ? new Object[0] : params);
        if (result == PythonStrings.UNKNOWN) return null;
        context.setPropertyResolved(true);
        return result;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }
}
