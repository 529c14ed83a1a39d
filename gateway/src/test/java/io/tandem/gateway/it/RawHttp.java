package io.tandem.gateway.it;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A plain socket HTTP/1.1 client: it reads only when told to, so a test can stop reading (a slow
 * client) or hang up mid-stream (a disconnect) at a precise point.
 */
final class RawHttp implements AutoCloseable {

    private final Socket socket;
    private final BufferedReader in;

    /** @param receiveBuffer SO_RCVBUF in bytes, 0 for the OS default */
    RawHttp(int port, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) socket.setReceiveBufferSize(receiveBuffer);
        socket.setSoTimeout(30_000);
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    }

    void post(String path, JsonObject body) throws IOException {
        byte[] bytes = body.encode().getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                + bytes.length + "\r\nConnection: close\r\n\r\n";
        OutputStream out = socket.getOutputStream();
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
    }

    /** Reads lines until one starts with {@code prefix}; returns it (null at end of stream). */
    String readUntil(String prefix) throws IOException {
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith(prefix)) return line;
        }
        return null;
    }

    /** Counts the SSE data lines until [DONE] (or the end); the last data line is returned in {@code last}. */
    java.util.List<String> readEvents() throws IOException {
        java.util.List<String> events = new java.util.ArrayList<>();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("data: ")) {
                events.add(line.substring(6));
                if (line.equals("data: [DONE]")) break;
            }
        }
        return events;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
