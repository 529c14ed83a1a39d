package io.tandem.gateway.preprocess;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The models this gateway can preprocess for, by served name. */
public final class ServedModels {

    private final Map<String, ServedModel> byName = new LinkedHashMap<>();

    public ServedModels(Collection<? extends ServedModel> models) {
        for (ServedModel m : models) {
            if (byName.putIfAbsent(m.name(), m) != null) {
                throw new IllegalArgumentException("two models are named '" + m.name() + "'");
            }
        }
    }

    public Optional<ServedModel> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public Collection<ServedModel> all() {
        return byName.values();
    }

    /** Served name → fingerprint of its model file. */
    public Map<String, String> fingerprints() {
        Map<String, String> m = new LinkedHashMap<>();
        byName.forEach((name, model) -> m.put(name, model.fingerprint()));
        return m;
    }
}
