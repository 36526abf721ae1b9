package io.quiltfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How an editable mount relates to the workflow: the package's lineage entry names the mount's
 * working area as its working folder (so status, commit, push and pull work on it), and the
 * verbs given a mount point (or the name of a package being edited through a live mount) are
 * sent to the mount's {@code .quiltfs/ctl}.
 */
final class MountEditing {
    private MountEditing() {
    }

    /** The revision an editable mount shows, or why the mount must be read-only. */
    record Claim(String top, String readOnlyReason) {
    }

    /**
     * Makes the package's lineage entry the mount's (creating it: base and head {@code top}).
     * An entry with local work (commits not pushed or uncommitted changes) keeps its head; one
     * without moves to {@code top}. A package installed in a working folder stays there: the
     * mount is then read-only.
     */
    static Claim claim(Home home, String uri, PackageName pkg, String top) throws IOException {
        Path area = home.mountArea(pkg);
        boolean changes = hasChanges(area);
        return Lineage.update(home, l -> {
            PackageState s = l.get(pkg);
            if (s != null && !Paths.get(s.workDir).toAbsolutePath().normalize().equals(area)) {
                return new Claim(top, pkg + " is installed in " + s.workDir + " in this home: edit it there (or"
                        + " uninstall it to edit it through a mount)");
            }
            if (s != null && (s.head.equals(top) || changes || !s.commits.isEmpty())) {
                return new Claim(s.head, null);
            }
            PackageState n = new PackageState();
            n.registry = uri;
            n.base = top;
            n.head = top;
            n.latestSeen = s == null ? null : s.latestSeen;
            n.workDir = area.toString();
            l.put(pkg, n);
            return new Claim(top, null);
        });
    }

    /** Whether the working area holds changes (its journal is not empty). */
    static boolean hasChanges(Path area) throws IOException {
        Path j = area.resolve("journal");
        return Files.isRegularFile(j) && Files.size(j) > 0;
    }

    /** Keys the journal changes (an estimate for messages: the journal is replayed at the next mount). */
    static int changedKeys(Path area) throws IOException {
        return journalChanges(area).size();
    }

    /**
     * The keys the journal of the working area {@code area} names as changed, sorted, each with
     * its last change: "d" deleted, else written ("f" content, "b" copied from a revision).
     */
    static java.util.SortedMap<String, String> journalChanges(Path area) throws IOException {
        Path j = area.resolve("journal");
        java.util.SortedMap<String, String> keys = new java.util.TreeMap<>();
        if (!Files.isRegularFile(j)) {
            return keys;
        }
        for (String line : Files.readAllLines(j, StandardCharsets.UTF_8)) {
            try {
                JsonNode n = Json.parse(line);
                String op = n.path("o").asText();
                if (op.equals("x")) {
                    keys.remove(n.path("k").asText());
                } else if (!op.equals("m")) {
                    keys.put(n.path("k").asText(), op);
                }
            } catch (RuntimeException torn) {
                break;
            }
        }
        return keys;
    }

    /**
     * The journal's changes of {@code p}, edited through a mount whose working area is {@code area},
     * as added, modified and removed keys against its head (all modified when the head cannot be read).
     */
    static io.quiltfs.store.workflow.Status.Changes changes(io.quiltfs.store.workflow.InstalledPackage p, Path area)
            throws IOException {
        io.quiltfs.store.manifest.Manifest head;
        try {
            head = p.head();
        } catch (IOException | RuntimeException unreadable) {
            head = null;
        }
        List<String> added = new java.util.ArrayList<>();
        List<String> modified = new java.util.ArrayList<>();
        List<String> removed = new java.util.ArrayList<>();
        for (var e : journalChanges(area).entrySet()) {
            boolean was = head == null || head.get(e.getKey()) != null;
            if (e.getValue().equals("d")) {
                if (was) {
                    removed.add(e.getKey());
                }
            } else {
                (was ? modified : added).add(e.getKey());
            }
        }
        return new io.quiltfs.store.workflow.Status.Changes(added, modified, removed, java.util.Map.of(),
                java.util.Map.of());
    }

    /** The mount point of a live quiltfs mount at {@code target}, else null. */
    static Path mountAt(String target) {
        Path mp;
        try {
            mp = Paths.get(target).toAbsolutePath().normalize();
        } catch (RuntimeException e) {
            return null;
        }
        try {
            MountTable.Mount m = MountTable.at(mp);
            return m != null && m.fsType().equals("fuse.quiltfs") ? mp : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The quiltfs mount that holds a path: {@code at} when the path is its mount point. */
    record Holder(Path mountpoint, boolean at) {
    }

    /**
     * The quiltfs mount that holds {@code target}, an existing path, its symbolic links followed
     * (a link to a mount point, or a folder of the mount), else null.
     */
    static Holder mountHolding(String target) {
        try {
            Path p = Paths.get(target);
            if (!Files.exists(p)) {
                return null;
            }
            Path real = p.toRealPath();
            MountTable.Mount m = MountTable.holding(MountTable.read(), real);
            return m != null && m.fsType().equals("fuse.quiltfs") ? new Holder(m.mountpoint(),
                    m.mountpoint().equals(real)) : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The extended attribute {@code user.NAME} of {@code path} as text, else null. */
    static String attribute(Path path, String name) {
        try {
            var view = Files.getFileAttributeView(path, java.nio.file.attribute.UserDefinedFileAttributeView.class);
            if (view == null) {
                return null;
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(view.size(name));
            view.read(name, b);
            return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The mount point of the live editable mount of {@code pkg} in this home, else null. */
    static Path liveMountOf(Home home, PackageName pkg) throws IOException {
        if (!Files.isDirectory(home.mounts())) {
            return null;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(home.mounts(), "*.json")) {
            for (Path p : s) {
                try {
                    JsonNode r = Json.parse(Files.readString(p));
                    if (r.path("package").asText().equals(pkg.toString()) && r.path("editable").asBoolean()
                            && ProcessHandle.of(r.path("pid").asLong()).map(ProcessHandle::isAlive).orElse(false)) {
                        Path mp = Paths.get(r.path("mountpoint").asText());
                        if (mountAt(mp.toString()) != null) {
                            return mp;
                        }
                    }
                } catch (IOException | RuntimeException ignored) {
                    // a record being written or left by a dead mount
                }
            }
        }
        return null;
    }

    /**
     * The result of a verb run by a mount: what it printed on stdout ({@code output}: the report),
     * on stderr ({@code errors}: warnings, errors) and its exit code.
     */
    record Result(String output, String errors, int exit) {
        /**
         * Reads a control channel's result: its lines, those marked {@link MountControl#ERR}
         * being stderr's, up to the last line {@code exit N} (missing: a failure).
         */
        static Result parse(String s) {
            int i = s.startsWith("exit ") ? 0 : s.lastIndexOf("\nexit ") + 1;
            int code = ExitCodes.FAILURE;
            if (i > 0 || s.startsWith("exit ")) {
                try {
                    code = Integer.parseInt(s.substring(i + 5).trim());
                } catch (NumberFormatException e) {
                    code = ExitCodes.FAILURE;
                }
            } else {
                i = s.length();
            }
            StringBuilder out = new StringBuilder();
            StringBuilder err = new StringBuilder();
            for (String line : s.substring(0, i).split("(?<=\n)")) {
                if (line.startsWith(MountControl.ERR)) {
                    err.append(line, MountControl.ERR.length(), line.length());
                } else {
                    out.append(line);
                }
            }
            return new Result(out.toString(), err.toString(), code);
        }
    }

    /** Runs {@code words} through the mount's {@code .quiltfs/ctl}. */
    static Result send(Path mp, List<String> words) throws IOException {
        Path ctl = mp.resolve(".quiltfs").resolve("ctl");
        byte[] all;
        try (FileChannel ch = FileChannel.open(ctl, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap((MountControl.join(words) + "\n").getBytes(StandardCharsets.UTF_8)));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(64 << 10);
            while (ch.read(buf) > 0) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            all = out.toByteArray();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CliException(ExitCodes.CONFLICT, "the mount at " + mp + " is read-only: it has no "
                    + ".quiltfs/ctl (mount the package without --read-only to edit it)");
        } catch (IOException e) {
            // Most often the mount's process ended (killed, crashed) while it ran the command.
            String why = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
                    : e.getMessage();
            throw new CliException(ExitCodes.FAILURE, "the mount at " + mp + " did not answer `"
                    + String.join(" ", words) + "` (" + why + "): its process may have stopped. Edits it had not"
                    + " committed are kept and come back at the next mount of the package; see whether the command"
                    + " took effect with `quiltfs status NS/NAME`", e);
        }
        return Result.parse(new String(all, StandardCharsets.UTF_8));
    }

}
