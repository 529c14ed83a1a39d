package io.tandem.gateway.it.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Short external commands ({@code ip}, {@code unshare}) run to completion, bounded by a timeout. */
final class Commands {
    private static final long TIMEOUT_SECONDS = 20;

    /** How a command ended: its exit code (-1 when it could not run or timed out) and its output, stderr included. */
    record Result(List<String> command, int exit, String output) {
        boolean ok() {
            return exit == 0;
        }

        /** The output, or an exception naming the command, its exit code and what it printed. */
        String orThrow() {
            if (!ok()) throw new IllegalStateException(this.toString());
            return output;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " -> exit " + exit + (output.isBlank() ? "" : ": " + output.strip());
        }
    }

    private Commands() {
    }

    static Result run(String... command) {
        return run(List.of(command));
    }

    static Result run(List<String> command) {
        Path out = null;
        Process p = null;
        try {
            // output to a file, not a pipe: a command that hangs must not block the reader past the timeout
            out = Files.createTempFile("netns-cmd", ".out");
            p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(command, -1, "timed out after " + TIMEOUT_SECONDS + " s\n" + Files.readString(out));
            }
            return new Result(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            if (p != null) p.destroyForcibly();
            return new Result(command, -1, e.toString());
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return new Result(command, -1, "interrupted");
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }

    /** An executable on PATH (or in /usr/sbin, /sbin, where {@code ip} lives when PATH lacks them). */
    static Optional<Path> which(String name) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }
}
