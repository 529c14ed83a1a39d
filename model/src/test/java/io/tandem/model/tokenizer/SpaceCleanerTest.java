package io.tandem.model.tokenizer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SpaceCleanerTest {
    private static String clean(String s) {
        return new String(SpaceCleaner.clean(s.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
    }

    @Test
    void batchRules() {
        assertEquals("Hello, world. Really?!", clean("Hello , world . Really ? !"));
        assertEquals("it's I'm we're they've", clean("it 's I 'm we 're they 've"));
        assertEquals("don 't he 'd we 'll", clean("don 't he 'd we 'll"), "these contractions keep their space");
        assertEquals("a'b", clean("a ' b"));
        assertEquals("'' ", clean(" ' ' "), "a space swallowed by one match cannot start the next");
        assertEquals(" '", clean(" '"), "nothing after the quote: no match");
    }

    @Property(tries = 2000)
    void streamingEqualsBatch(@ForAll("texts") String text, @ForAll @IntRange(min = 1, max = 4) int chunk) {
        SpaceCleaner.Stream stream = new SpaceCleaner.Stream();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i += chunk) out.append(stream.feed(text.substring(i, Math.min(text.length(), i + chunk))));
        out.append(stream.finish());
        assertEquals(clean(text), out.toString());
    }

    @Provide
    Arbitrary<String> texts() {
        return Arbitraries.strings().withChars(" '?!.,smrevltdx").ofMaxLength(24);
    }
}
