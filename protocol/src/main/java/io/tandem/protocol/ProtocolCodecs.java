package io.tandem.protocol;

import io.tandem.protocol.codec.ControlMessageCodec;
import io.tandem.protocol.codec.RemotePrefillCodec;
import io.tandem.protocol.codec.GenerateRequestCodec;
import io.tandem.protocol.codec.StreamMessageCodec;
import io.tandem.protocol.codec.WorkerRecordCodec;
import io.tandem.protocol.kv.KvEventBatch;
import io.tandem.protocol.codec.KvEventBatchCodec;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;

import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Registers a default codec for every message type that crosses the cluster, so senders need
 * no {@code DeliveryOptions}. Call once per Vert.x instance before sending; repeated calls on
 * the same event bus are no-ops (gateway and embedded workers share one).
 */
public final class ProtocolCodecs {
    private static final Set<EventBus> REGISTERED = Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));

    private ProtocolCodecs() {}

    public static void registerAll(EventBus eventBus) {
        if (!REGISTERED.add(eventBus)) return;
        eventBus.registerDefaultCodec(GenerateRequest.class, new GenerateRequestCodec());
        eventBus.registerDefaultCodec(WorkerRecord.class, new WorkerRecordCodec());
        eventBus.registerDefaultCodec(KvEventBatch.class, new KvEventBatchCodec());
        register(eventBus, StreamMessage.Tokens.class, new StreamMessageCodec("tandem.StreamMessage.Tokens"));
        register(eventBus, StreamMessage.Finished.class, new StreamMessageCodec("tandem.StreamMessage.Finished"));
        register(eventBus, StreamMessage.Failed.class, new StreamMessageCodec("tandem.StreamMessage.Failed"));
        register(eventBus, StreamMessage.Alive.class, new StreamMessageCodec("tandem.StreamMessage.Alive"));
        register(eventBus, ControlMessage.Credit.class, new ControlMessageCodec("tandem.ControlMessage.Credit"));
        register(eventBus, ControlMessage.Cancel.class, new ControlMessageCodec("tandem.ControlMessage.Cancel"));
        register(eventBus, RemotePrefillMessage.Request.class, new RemotePrefillCodec("tandem.RemotePrefill.Request"));
        register(eventBus, RemotePrefillMessage.Result.class, new RemotePrefillCodec("tandem.RemotePrefill.Result"));
    }

    // A family codec handles the sealed parent type; each variant class is registered to it.
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static <T> void register(EventBus eventBus, Class<T> variant, MessageCodec<?, ?> familyCodec) {
        eventBus.registerDefaultCodec(variant, (MessageCodec) familyCodec);
    }
}
