package io.tandem.worker.disagg;

import io.tandem.protocol.auth.ClusterSecret;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BootstrapAuthTest {
    private final ClusterSecret secret = ClusterSecret.of("a cluster secret of some length");
    private final BootstrapAuth server = new BootstrapAuth(secret);
    private final byte[] body = "{\"worker_id\":\"decode-1\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void aMemberWithTheSecretGetsASignedAnswer() {
        BootstrapAuth.Answer answer = BootstrapAuth.answer(secret, server.challenge(0), "prefill-1");
        var accepted = assertInstanceOf(BootstrapAuth.Verdict.Accepted.class, server.check(answer.authorization(), 1));
        assertEquals("prefill-1", accepted.requester());
        String proof = server.proof(accepted, body);
        assertTrue(BootstrapAuth.verifyProof(secret, answer, proof, body));
        assertFalse(BootstrapAuth.verifyProof(secret, answer, proof, "{\"worker_id\":\"other\"}".getBytes(StandardCharsets.UTF_8)),
                "an altered answer fails the proof");
        assertFalse(BootstrapAuth.verifyProof(ClusterSecret.of("another secret, also long"), answer, proof, body),
                "a server without our secret cannot prove itself");
    }

    @Test
    void wrongSecretMissingHeaderAndReplaysAreRefused() {
        String challenge = server.challenge(0);
        BootstrapAuth.Answer wrong = BootstrapAuth.answer(ClusterSecret.of("not the cluster's secret!!"), challenge, "x");
        assertEquals("bad_mac", refusal(server.check(wrong.authorization(), 1)));
        assertEquals("stale_challenge", refusal(server.check(wrong.authorization(), 1)), "a challenge is single-use, even when failed");
        assertEquals("missing", refusal(server.check(null, 1)));
        assertEquals("scheme", refusal(server.check("Bearer abc", 1)));

        BootstrapAuth.Answer right = BootstrapAuth.answer(secret, server.challenge(0), "prefill-1");
        assertInstanceOf(BootstrapAuth.Verdict.Accepted.class, server.check(right.authorization(), 1));
        assertEquals("stale_challenge", refusal(server.check(right.authorization(), 2)), "a replay is refused");
    }

    @Test
    void challengesExpireAndAreBounded() {
        BootstrapAuth.Answer late = BootstrapAuth.answer(secret, server.challenge(0), "p");
        assertEquals("stale_challenge", refusal(server.check(late.authorization(), BootstrapAuth.CHALLENGE_TTL_MILLIS + 1)));
        String first = server.challenge(0);
        for (int i = 0; i < BootstrapAuth.MAX_OUTSTANDING; i++) server.challenge(0);
        assertEquals("stale_challenge", refusal(server.check(BootstrapAuth.answer(secret, first, "p").authorization(), 1)),
                "the oldest outstanding challenge was pushed out");
    }

    @Test
    void theRequesterIdIsBoundIntoTheMac() {
        BootstrapAuth.Answer a = BootstrapAuth.answer(secret, server.challenge(0), "prefill-1");
        String forged = a.authorization().replace("worker=\"prefill-1\"", "worker=\"prefill-2\"");
        assertEquals("bad_mac", refusal(server.check(forged, 1)));
    }

    private static String refusal(BootstrapAuth.Verdict v) {
        return assertInstanceOf(BootstrapAuth.Verdict.Refused.class, v).reason();
    }
}
