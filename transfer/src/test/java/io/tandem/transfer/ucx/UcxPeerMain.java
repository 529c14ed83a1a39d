package io.tandem.transfer.ucx;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferContext;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * The other process of the UCX tests and bench: owns one region (id 0) registered with a UcxBackend, prints its
 * metadata as "META {json}", then answers lines on stdin: "sum OFF LEN" (CRC32 of a range), "fill SEED" (pattern),
 * "quit". The backend's progress thread serves the initiator's puts and gets meanwhile.
 */
public final class UcxPeerMain {
    public static void main(String[] args) throws Exception {
        String name = args[0];
        long size = Long.parseLong(args[1]);
        try (Arena arena = Arena.ofShared();
             UcxBackend backend = new UcxBackend(new TransferContext(TransferConfig.of("ucx", name), null, null))) {
            MemorySegment memory = arena.allocate(size, 4096);
            backend.register(new RegisteredRegion(0, "peer", memory, null));
            AgentMetadata meta = new AgentMetadata(name, "host", "127.0.0.1", 0,
                    List.of(new RegisteredRegion(0, "peer", memory, null).info()), Map.of(UcxBackend.NAME, backend.payload()));
            System.out.println("META " + meta.toJson().encode());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            for (String line; (line = in.readLine()) != null; ) {
                String[] w = line.trim().split(" ");
                switch (w[0]) {
                    case "sum" -> System.out.println("SUM " + Patterns.crc(memory.asSlice(Long.parseLong(w[1]), Long.parseLong(w[2]))));
                    case "fill" -> {
                        Patterns.fill(memory, Long.parseLong(w[1]));
                        System.out.println("OK");
                    }
                    case "quit" -> {
                        return;
                    }
                    default -> System.out.println("ERR unknown command " + w[0]);
                }
                System.out.flush();
            }
        }
    }
}
