package io.tandem.transfer.ucx;

import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferAgents;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferOp;
import io.tandem.transfer.nativelib.UcpLibrary;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Run in a child JVM without a NIXL home by {@link LinkerUcxTest}: two ucx agents move 3 MiB + 5 bytes each way on
 * whichever UCX the linker finds, and print that UCX and whether every byte arrived.
 */
public final class LinkerUcxMain {
    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        try (TransferAgent a = open(vertx, "a"); TransferAgent b = open(vertx, "b")) {
            long n = 3 * (1 << 20) + 5;
            RegisteredRegion ra = a.register("kv", 4 << 20), rb = b.register("kv", 4 << 20);
            for (long i = 0; i < n; i++) ra.memory().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 7 + i, (byte) (i * 31 + 1));
            String via = vertx.executeBlocking(() -> a.loadPeer(b.metadata())).toCompletionStage().toCompletableFuture()
                    .get(30, TimeUnit.SECONDS);
            a.post(TransferOp.WRITE, List.of(new MemoryDescriptor(ra.id(), 7, n)), b.name(),
                    List.of(new MemoryDescriptor(rb.id(), 4099, n)), null).completion().get(30, TimeUnit.SECONDS);
            boolean intact = true;
            for (long i = 0; i < n && intact; i++) {
                intact = rb.memory().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4099 + i) == (byte) (i * 31 + 1);
            }
            System.out.println("backend " + via + " " + UcpLibrary.get() + " intact " + intact);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static TransferAgent open(Vertx vertx, String name) throws Exception {
        TransferConfig c = TransferConfig.of("ucx", name + "-" + ProcessHandle.current().pid()).withTimeout(Duration.ofSeconds(10));
        return TransferAgents.open(vertx, c).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
