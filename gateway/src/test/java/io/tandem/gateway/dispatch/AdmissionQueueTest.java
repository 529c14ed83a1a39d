package io.tandem.gateway.dispatch;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionQueueTest {
    record Item(String name, int priority, long arrival) {}

    private static AdmissionQueue<Item> queue(int capacity) {
        return new AdmissionQueue<>(capacity, Item::priority, Item::arrival);
    }

    @Test
    void firstComeFirstServedWithinAPriorityAndLowerPrioritiesFirst() {
        AdmissionQueue<Item> q = queue(10);
        q.offer("m", new Item("a", 0, 1));
        q.offer("m", new Item("b", 0, 2));
        q.offer("m", new Item("urgent", -5, 3));
        q.offer("m", new Item("batch", 10, 4));
        q.offer("m", new Item("c", 0, 5));
        assertEquals("urgent", q.poll("m").name());
        assertEquals("a", q.poll("m").name());
        assertEquals("b", q.poll("m").name());
        assertEquals("c", q.poll("m").name());
        assertEquals("batch", q.poll("m").name());
        assertNull(q.poll("m"));
    }

    @Test
    void anItemPutBackKeepsItsPlaceEvenWhenTheQueueFilledMeanwhile() {
        AdmissionQueue<Item> q = queue(2);
        Item first = new Item("first", 0, 1);
        q.offer("m", first);
        q.offer("m", new Item("second", 0, 2));
        Item taken = q.poll("m");
        assertTrue(q.offer("m", new Item("third", 0, 3)));
        assertFalse(q.offer("m", new Item("fourth", 0, 4)), "full");
        q.putBack("m", taken);
        assertEquals("first", q.poll("m").name());
        assertEquals("second", q.poll("m").name());
    }

    @Test
    void modelsHaveTheirOwnBoundAndItemsCanLeave() {
        AdmissionQueue<Item> q = queue(1);
        Item a = new Item("a", 0, 1);
        assertTrue(q.offer("m1", a));
        assertTrue(q.offer("m2", new Item("b", 0, 2)));
        assertFalse(q.offer("m1", new Item("c", 0, 3)));
        assertEquals(2, q.size());
        assertTrue(q.remove("m1", a), "a client that leaves takes its place with it");
        assertFalse(q.remove("m1", a));
        assertEquals(0, q.size("m1"));
        assertTrue(q.offer("m1", new Item("c", 0, 3)));
    }
}
