package io.tandem.gateway.it.netns;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * A host outside the cluster (no secret, no bootstrap) that connects to a worker's transfer control port and tries to
 * READ all of its KV memory and then overwrite it (WRITE), speaking the control channel's framing
 * ({@code io.tandem.transfer.control.Frames}: type u8, header length i32, payload length i64, header, payload; big
 * endian). It guesses region ids from 0 (the agent numbers its regions from 0) and prints what it got back. The last
 * line is machine-readable:
 * <pre>RESULT read=DATA|ERROR|CLOSED|TIMEOUT|REFUSED|OTHER write=ACK|ERROR|… regionsRead=N bytesRead=N nonZeroRead=N regionsWritten=N bytesWritten=N</pre>
 * {@code read=DATA} means KV bytes came back, {@code write=ACK} that the worker applied a write (any byte counts); else
 * the first answer's kind. Only JDK classes, so
 * it runs with nothing but the test classes on its class path: {@code java -cp test-classes … HOST PORT}.
 */
public final class TransferAttacker {
    private static final byte WRITE = 1, WRITE_END = 2, READ = 3, READ_DATA = 4, ACK = 5, ERROR = 6;
    private static final int MAX_REGIONS = 512;
    private static final int TIMEOUT_MILLIS = 5_000;

    enum Outcome { DATA, ACK, ERROR, CLOSED, TIMEOUT, REFUSED, OTHER }

    /** One answer: its kind, a description, and for READ the bytes received and how many were not zero. */
    record Reply(Outcome outcome, String detail, long bytes, long nonZero) {
        static Reply of(Outcome o, String detail) {
            return new Reply(o, detail, 0, 0);
        }
    }

    private TransferAttacker() {
    }

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: TransferAttacker HOST PORT");
            System.exit(2);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        System.out.println("attacker: target " + host + ":" + port);
        Tally read = attack(host, port, "READ", false);
        Tally write = attack(host, port, "WRITE", true);
        System.out.println("RESULT read=" + read.outcome(Outcome.DATA) + " write=" + write.outcome(Outcome.ACK)
                + " regionsRead=" + read.regions + " bytesRead=" + read.bytes + " nonZeroRead=" + read.nonZero
                + " regionsWritten=" + write.regions + " bytesWritten=" + write.bytes);
    }

    /** What one kind of attack got: its first answer, and the regions and bytes it reached. */
    private static final class Tally {
        Reply first;
        int regions;
        long bytes, nonZero;

        /** {@code success} when any byte got through, else the first answer's kind. */
        Outcome outcome(Outcome success) {
            return bytes > 0 ? success : first.outcome();
        }
    }

    /**
     * READs (or overwrites) regions 0, 1, … whole, on a fresh connection: each from offset 0 in chunks of 1 MiB,
     * halved when refused (a region's end), until a region yields nothing or the connection fails.
     */
    private static Tally attack(String host, int port, String what, boolean write) {
        Tally t = new Tally();
        try (Channel c = Channel.open(host, port)) {
            for (int region = 0; region < MAX_REGIONS; region++) {
                long offset = 0, nonZero = 0;
                Reply first = null, last = null;
                for (int chunk = 1 << 20; chunk >= 512; ) {
                    last = write ? c.write(region, offset, chunk) : c.read(region, offset, chunk);
                    if (first == null) first = last;
                    if (last.outcome() == Outcome.ACK || last.outcome() == Outcome.DATA) {
                        offset += chunk;
                        nonZero += last.nonZero();
                    } else if (last.outcome() == Outcome.ERROR) {
                        chunk /= 2;
                    } else {
                        break;
                    }
                }
                if (t.first == null) t.first = first;
                if (region < 2 || offset == 0) {
                    System.out.println(what + " region " + region + ": first answer " + first.outcome() + " " + first.detail()
                            + "; " + offset + " bytes " + (write ? "written" : "read, " + nonZero + " of them non-zero"));
                }
                if (offset == 0) break;
                t.regions++;
                t.bytes += offset;
                t.nonZero += nonZero;
                if (last.outcome() != Outcome.ERROR) break; // the connection failed mid-region
            }
        } catch (IOException e) {
            if (t.first == null) t.first = failure(e);
            System.out.println(what + ": " + failure(e).outcome() + " " + failure(e).detail());
        }
        System.out.println(what + " summary: " + t.regions + " regions, " + t.bytes + " bytes "
                + (write ? "overwritten" : "read (" + t.nonZero + " non-zero)"));
        return t;
    }

    private static Reply failure(IOException e) {
        if (e instanceof ConnectException) return Reply.of(Outcome.REFUSED, e.toString());
        if (e instanceof SocketTimeoutException) return Reply.of(Outcome.TIMEOUT, "no answer within " + TIMEOUT_MILLIS + " ms");
        return Reply.of(Outcome.CLOSED, e instanceof EOFException ? "connection closed by the worker" : e.toString());
    }

    /** One control connection, used request by request. */
    private static final class Channel implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final DataOutputStream out;
        private long nextId = 1;

        private Channel(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
        }

        static Channel open(String host, int port) throws IOException {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
                s.setSoTimeout(TIMEOUT_MILLIS);
                return new Channel(s);
            } catch (IOException e) {
                s.close();
                throw e;
            }
        }

        /** READ {@code [offset, offset + length)} of {@code region}: DATA with the bytes (and ACK), or what came instead. */
        Reply read(int region, long offset, int length) {
            long id = nextId++;
            try {
                prefix(READ, 12 + 20, 0);
                out.writeLong(id);
                out.writeInt(1);
                out.writeInt(region);
                out.writeLong(offset);
                out.writeLong(length);
                out.flush();
                long bytes = 0, nonZero = 0;
                byte[] head = new byte[0];
                while (true) {
                    Frame f = Frame.read(in);
                    if (f.type() == READ_DATA) {
                        bytes += f.payload().length;
                        for (byte b : f.payload()) if (b != 0) nonZero++;
                        if (head.length == 0) head = Arrays.copyOf(f.payload(), Math.min(32, f.payload().length));
                    } else if (f.type() == ACK) {
                        return bytes > 0 ? new Reply(Outcome.DATA, bytes + " bytes, " + nonZero + " non-zero, first floats "
                                + floats(head), bytes, nonZero) : Reply.of(Outcome.ACK, "ACK without data");
                    } else {
                        return other(f);
                    }
                }
            } catch (IOException e) {
                return failure(e);
            }
        }

        /** WRITE then WRITE_END: ACK when the worker applied the bytes, or what came instead. */
        Reply write(int region, long offset, int length) {
            long id = nextId++;
            try {
                prefix(WRITE, 20, length);
                out.writeLong(id);
                out.writeInt(region);
                out.writeLong(offset);
                out.write(garbage(length));
                prefix(WRITE_END, 8, 0);
                out.writeLong(id);
                out.flush();
                Frame f = Frame.read(in);
                return f.type() == ACK ? Reply.of(Outcome.ACK, "applied") : other(f);
            } catch (IOException e) {
                return failure(e);
            }
        }

        private void prefix(byte type, int headerLength, long payloadLength) throws IOException {
            out.writeByte(type);
            out.writeInt(headerLength);
            out.writeLong(payloadLength);
        }

        private static Reply other(Frame f) {
            if (f.type() == ERROR && f.header().length >= 8) {
                return Reply.of(Outcome.ERROR, "\"" + new String(f.header(), 8, f.header().length - 8, StandardCharsets.UTF_8) + "\"");
            }
            return Reply.of(Outcome.OTHER, "frame type " + f.type() + " with a " + f.header().length + "-byte header");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private record Frame(byte type, byte[] header, byte[] payload) {
        static Frame read(DataInputStream in) throws IOException {
            byte type = in.readByte();
            int headerLength = in.readInt();
            long payloadLength = in.readLong();
            if (headerLength < 0 || headerLength > (1 << 20) || payloadLength < 0 || payloadLength > (64 << 20)) {
                throw new IOException("implausible frame: type " + type + ", header " + headerLength + ", payload " + payloadLength);
            }
            byte[] header = in.readNBytes(headerLength);
            byte[] payload = in.readNBytes((int) payloadLength);
            if (header.length < headerLength || payload.length < payloadLength) throw new EOFException();
            return new Frame(type, header, payload);
        }
    }

    /** Finite floats (3.0f, little endian like the KV arenas): wrong values, not NaNs that could crash a kernel. */
    private static byte[] garbage(int length) {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= 4) b.putFloat(3.0f);
        return b.array();
    }

    private static String floats(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder sb = new StringBuilder("[");
        while (b.remaining() >= 4) sb.append(String.format(Locale.ROOT, "%s%.4g", sb.length() > 1 ? " " : "", b.getFloat()));
        return sb.append(']').toString();
    }
}
