package io.quiltfs.store.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.state.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipart uploads that processes of one home began in one registry and have not ended:
 * one small file each ({@code PID-N.json}: key, upload id, the process and its start time), made
 * when the upload is created and deleted once it is completed or aborted. A process killed with
 * SIGKILL (which no shutdown hook sees) leaves its uploads' parts in the bucket, unlisted and
 * billed until a lifecycle rule removes them; its files stay here, and a later push from the
 * home aborts the uploads of processes that are gone. An upload of a live process (another
 * push running now) is never touched: a process is known by its pid and start time, so a
 * reused pid does not pass for the killed one. Losing the folder only forgets what to clean.
 */
final class UploadJournal {
    private static final Logger log = LoggerFactory.getLogger(UploadJournal.class);
    private static final AtomicLong NEXT = new AtomicLong();
    private static final long PID = ProcessHandle.current().pid();
    private static final String STARTED = started(ProcessHandle.current());

    /** An upload a process that is gone left open. */
    record Orphan(Path file, String key, String uploadId) {
    }

    private final Path dir;

    /** {@code dir} null: nothing is recorded (no home). */
    UploadJournal(Path dir) {
        this.dir = dir;
    }

    /** Records an upload just created; the file to give {@link #end}, or null if none was written. */
    Path begin(String key, String uploadId) {
        if (dir == null) {
            return null;
        }
        Path f = dir.resolve(PID + "-" + NEXT.incrementAndGet() + ".json");
        try {
            Files.createDirectories(dir);
            AtomicFile.write(f, Json.MAPPER.writeValueAsBytes(Json.object().put("key", key).put("upload_id", uploadId)
                    .put("pid", PID).put("started", STARTED)));
            return f;
        } catch (IOException e) {
            // The upload itself is fine; only a kill during it would leave it unrecorded.
            log.warn("cannot record the multipart upload of {} in {}: {}", key, dir, e.getMessage());
            return null;
        }
    }

    /** The upload is completed or aborted: forget it. */
    void end(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.debug("cannot delete {}: {}", file, e.getMessage());
        }
    }

    /**
     * The uploads recorded by processes that are no longer running. An unreadable record (a
     * kill during its write leaves none: it is written atomically) is deleted and logged.
     */
    List<Orphan> orphans() {
        List<Orphan> out = new ArrayList<>();
        if (dir == null) {
            return out;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : s) {
                try {
                    JsonNode j = Json.parse(new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
                    String key = j.path("key").asText(null);
                    String id = j.path("upload_id").asText(null);
                    if (key == null || id == null) {
                        throw new IOException("no key or upload_id");
                    }
                    if (!alive(j.path("pid").asLong(-1), j.path("started").asText(""))) {
                        out.add(new Orphan(f, key, id));
                    }
                } catch (NoSuchFileException gone) {
                    // ended meanwhile
                } catch (IOException | RuntimeException e) {
                    log.warn("deleting the unreadable record of a multipart upload {}: {}", f, e.getMessage());
                    end(f);
                }
            }
        } catch (NoSuchFileException none) {
            return out;
        } catch (IOException e) {
            log.warn("cannot list the multipart uploads recorded in {}: {}", dir, e.getMessage());
        }
        return out;
    }

    private static boolean alive(long pid, String started) {
        if (pid == PID) {
            return started.equals(STARTED);
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        return h.isPresent() && h.get().isAlive() && started.equals(started(h.get()));
    }

    private static String started(ProcessHandle h) {
        return h.info().startInstant().map(Object::toString).orElse("");
    }
}
