package io.tandem.model.chat;

import org.junit.jupiter.api.Test;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Expected values are what CPython 3.11 returns for the same calls. */
class PythonSemanticsTest {

    @Test
    void floatReprMatchesPython() {
        // repr() of each value in CPython
        Map<Double, String> cases = new LinkedHashMap<>();
        cases.put(1.0, "1.0");
        cases.put(0.1, "0.1");
        cases.put(1e-4, "0.0001");
        cases.put(1e-5, "1e-05");
        cases.put(1.5e-7, "1.5e-07");
        cases.put(123456789012345.6, "123456789012345.6");
        cases.put(1e15, "1000000000000000.0");
        cases.put(1e16, "1e+16");
        cases.put(1.2345e100, "1.2345e+100");
        cases.put(-2.5, "-2.5");
        cases.put(-0.0, "-0.0");
        cases.put(1.0 / 3, "0.3333333333333333");
        cases.put(Double.MIN_VALUE, "5e-324");
        cases.put(Double.MAX_VALUE, "1.7976931348623157e+308");
        cases.forEach((d, repr) -> assertEquals(repr, PythonJson.floatRepr(d), String.valueOf(d)));
    }

    @Test
    void jsonDumpsMatchesPython() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", List.of(1, 2.0, true, "x\u0000\u2028é"));
        m.put("a", Map.of());
        m.put("c", null);
        // json.dumps(m, ensure_ascii=False) and json.dumps(m, ensure_ascii=False, indent=2, sort_keys=True)
        assertEquals("{\"b\": [1, 2.0, true, \"x\\u0000\u2028é\"], \"a\": {}, \"c\": null}", PythonJson.dumps(m, null, false));
        assertEquals("{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.0,\n    true,\n    \"x\\u0000\u2028é\"\n  ],\n  \"c\": null\n}",
                PythonJson.dumps(m, "  ", true));
    }

    @Test
    void stripSplitAndFriends() {
        String s = "\u00a0 a  b\t\n";
        assertEquals("a  b", PythonStrings.strip(s, null, true, true));
        assertEquals("\u00a0 a  b", PythonStrings.strip(s, null, false, true));
        assertEquals("a  b\t\n", PythonStrings.strip(s, null, true, false));
        assertEquals("c", PythonStrings.strip("abcab", "ab", true, true)); // 'abcab'.strip('ab')
        assertEquals("cab", PythonStrings.strip("abcab", "ab", true, false));
        assertEquals(List.of("a", "b"), PythonStrings.split(s, null, -1));
        assertEquals(List.of("a", "b\t\n"), PythonStrings.split(s, null, 1)); // trailing whitespace stays
        assertEquals(List.of("", "a", "", "b"), PythonStrings.split(",a,,b", ",", -1));
        assertEquals(List.of("", "a,,b"), PythonStrings.split(",a,,b", ",", 1));
        assertEquals(List.of(",a,", "b"), PythonStrings.rsplit(",a,,b", ",", 1));
        assertEquals(List.of("\u00a0 a", "b"), PythonStrings.rsplit(s, null, 1));
        assertEquals(List.of(), PythonStrings.split("   ", null, -1));
        assertEquals("A Big-Deal 2X", PythonStrings.call("a bIG-deal 2X", "title", new Object[0]));
        assertEquals("They'Re", PythonStrings.call("they're", "title", new Object[0]));
        assertEquals("Hello world", PythonStrings.call("hELLO World", "capitalize", new Object[0]));
        assertEquals("x-y-z", PythonStrings.call("-", "join", new Object[] {List.of("x", "y", "z")}));
        assertEquals("aXbXa", PythonStrings.call("a.b.a", "replace", new Object[] {".", "X"}));
        assertEquals("aXb.a", PythonStrings.call("a.b.a", "replace", new Object[] {".", "X", 1L}));
        assertEquals(true, PythonStrings.call("<tool_response>", "startswith", new Object[] {List.of("x", "<tool")}));
        assertEquals(2L, PythonStrings.call("banana", "count", new Object[] {"an"}));
        assertEquals(PythonStrings.UNKNOWN, PythonStrings.call("x", "no_such_method", new Object[0]));
    }

    @Test
    void strftimeNowDirectives() {
        ZonedDateTime t = ZonedDateTime.of(2024, 7, 5, 14, 3, 9, 0, ZoneOffset.UTC);
        // datetime(2024, 7, 5, 14, 3, 9).strftime(...)
        assertEquals("05 Jul 2024", TemplateFunctions.strftime(t, "%d %b %Y"));
        assertEquals("Friday, July 05 24 02:03:09 PM 187 %", TemplateFunctions.strftime(t, "%A, %B %d %y %I:%M:%S %p %j %%"));
    }

    @Test
    void syntaxRewrites() {
        assertEquals("{%- for m in messages|reverse %}", HfTemplateSyntax.rewrite("{%- for m in messages[::-1] %}"));
        assertEquals("{% set ns = namespace(a=(messages|length - 1), b=true, c=none) %}",
                HfTemplateSyntax.rewrite("{% set ns = namespace(a=messages|length - 1, b=True, c=None) %}"));
        // string literals and text outside tags are left alone
        assertEquals("True [::-1] {{ 'None [::-1]' ~ x }}", HfTemplateSyntax.rewrite("True [::-1] {{ 'None [::-1]' ~ x }}"));
        assertEquals("{{ f(a == b|length) }}", HfTemplateSyntax.rewrite("{{ f(a == b|length) }}"));
        assertEquals("{# True #}{% raw %}{{ x[::-1] }}{% endraw %}",
                HfTemplateSyntax.rewrite("{# True #}{% raw %}{{ x[::-1] }}{% endraw %}"));
        assertEquals("{%- raw -%}{{ None }}{%- endraw -%}", HfTemplateSyntax.rewrite("{%- raw -%}{{ None }}{%- endraw -%}"));
        assertEquals("{{ 'é\\n' }}", HfTemplateSyntax.rewrite("{{ '\\u00e9\\n' }}"));
        assertEquals("a\nb", HfTemplateSyntax.rewrite("a\r\nb\n"));
    }
}
