package io.tandem.gateway.soak;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ThreadNamesTest {
    private static String dump(String instance, int workers) {
        StringBuilder sb = new StringBuilder("12345:\nFull thread dump OpenJDK 64-Bit Server VM:\n\n");
        sb.append("\"main\" #1 prio=5 os_prio=0 tid=0x1 nid=0x2 waiting on condition\n   java.lang.Thread.State: WAITING\n\n");
        sb.append("\"hz.").append(instance).append(".cached.thread-3\" #40 daemon prio=5\n\n");
        sb.append("\"").append(instance).append("-NioNetworking-closeListenerExecutor\" #41 daemon prio=5\n\n");
        for (int i = 0; i < workers; i++) sb.append("\"vert.x-worker-thread-").append(i).append("\" #").append(50 + i).append(" prio=5\n\n");
        sb.append("\"VM Thread\" os_prio=0 cpu=1.00ms tid=0x3 nid=0x4 runnable\n"); // VM-internal: not a Java thread
        return sb.toString();
    }

    @Test
    void groupsJavaThreadsByNameWithoutNumbersOrTheHazelcastInstance() {
        assertEquals(Map.of("main", 1, "hz.<hz>.cached.thread-#", 1, "<hz>-NioNetworking-closeListenerExecutor", 1,
                "vert.x-worker-thread-#", 3), ThreadNames.groups(dump("confident_cannon", 3)));
    }

    @Test
    void twoJvmsCompareAndOnlyGrownGroupsAreListed() {
        Map<String, Integer> start = ThreadNames.groups(dump("confident_cannon", 2));
        Map<String, Integer> end = ThreadNames.groups(dump("wizardly_chebyshev", 5));
        assertEquals(List.of("+3 vert.x-worker-thread-#"), ThreadNames.grown(start, end));
        assertEquals(List.of(), ThreadNames.grown(end, start));
    }
}
