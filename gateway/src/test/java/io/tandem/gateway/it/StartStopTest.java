package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** An embedded gateway starts on a free port and stops cleanly (twice in a row, no leftovers). */
class StartStopTest {

    @Test
    void startsAndStops() {
        for (int i = 0; i < 2; i++) {
            Gateway gw = TestSupport.start(TestSupport.options(1));
            try (TestSupport.Http http = new TestSupport.Http(gw.port())) {
                assertEquals(200, http.get("/health").status());
            }
            TestSupport.sync(gw.stop());
        }
    }
}
