package com.infinyon.fluvio.e2e;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command and keeps what it printed. */
final class Processes {
    private Processes() {}

    /** What a finished command left: its exit status and its output (stdout and stderr, merged). */
    static final class Result {
        final int status;
        final String output;

        Result(int status, String output) {
            this.status = status;
            this.output = output;
        }

        /** Fails with the command's output unless it exited with 0. */
        Result requireSuccess(String what) {
            Suite.require(status == 0, what + " exited with " + status + ":\n" + tail(output));
            return this;
        }
    }

    static Result run(Path dir, Map<String, String> environment, long timeoutSeconds, List<String> command) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().putAll(environment);
        try {
            Process process = builder.start();
            process.getOutputStream().close();
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            Thread reader = new Thread(() -> {
                try (InputStream in = process.getInputStream()) {
                    in.transferTo(output);
                } catch (IOException ignored) {
                    // the process is gone; what was read is kept
                }
            });
            reader.start();
            if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                reader.join(5_000);
                throw new AssertionError("timed out after " + timeoutSeconds + " s: " + command + "\n"
                        + tail(output.toString(StandardCharsets.UTF_8)));
            }
            reader.join();
            return new Result(process.exitValue(), output.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** The last 60 lines: enough to see why a build failed. */
    static String tail(String output) {
        String[] lines = output.split("\n");
        int from = Math.max(0, lines.length - 60);
        return String.join("\n", java.util.Arrays.asList(lines).subList(from, lines.length));
    }
}
