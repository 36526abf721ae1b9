package io.quiltfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.state.Home;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "unmount", aliases = "umount", mixinStandardHelpOptions = true,
        description = {"Unmount a quiltfs mount and wait for its process to stop.",
            "The object cache keeps what was read."})
final class UnmountCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "Where the package is mounted.")
    Path mountpoint;

    @Option(names = "--lazy", description = "Detach now even if files are open (they keep working until closed).")
    boolean lazy;

    @Override
    public Integer call() throws Exception {
        Path mp = mountpoint.toAbsolutePath().normalize();
        Home home = home();
        MountTable.Mount m = MountTable.at(mp);
        if (m == null) {
            throw new CliException(ExitCodes.NOT_FOUND, "nothing is mounted at " + mp);
        }
        if (!m.fsType().startsWith("fuse")) {
            throw new CliException(ExitCodes.CONFLICT, mp + " is a " + m.fsType() + " mount, not quiltfs");
        }
        Optional<ProcessHandle> daemon = daemon(home, mp);
        String editing = editedPackage(home, mp);
        String why = FuseMount.isStale(mp) ? cleanStale(mp) : FuseMount.unmount(mp, lazy);
        if (why != null) {
            throw new CliException(ExitCodes.CONFLICT, "cannot unmount " + mp + ": " + why
                    + (why.contains("busy") ? " (a process has a file or folder open there: close it, or use --lazy)" : ""));
        }
        if (daemon.isPresent() && !lazy) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (daemon.get().isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        out().line("unmounted " + mp);
        var j = Json.object().put("mountpoint", mp.toString());
        if (editing != null) {
            io.quiltfs.store.registry.PackageName pkg = io.quiltfs.store.registry.PackageName.parse(editing);
            int n = MountEditing.changedKeys(home.mountArea(pkg));
            j.put("package", editing).put("uncommitted_keys", n);
            if (n > 0) {
                // The journal knows which keys were written, moved, removed or given a time, not
                // whether a copy's bytes still are its row's (a time alone is no change for status).
                out().line("kept the working area of " + editing + " (" + n + " key" + (n == 1 ? "" : "s")
                        + " written, moved, removed or given a time) in " + home.mountArea(pkg)
                        + ": it reappears at the next mount of " + editing + "; `quiltfs status " + editing
                        + "` lists what differs from the revision (a time alone does not), `quiltfs commit "
                        + editing + " -m MSG` records it");
            }
        }
        out().json(j);
        return ExitCodes.OK;
    }

    private static String cleanStale(Path mp) {
        try {
            FuseMount.cleanStale(mp);
            return null;
        } catch (java.io.IOException e) {
            return e.getMessage();
        }
    }

    /** The package of an editable mount at {@code mp}, from its record; null otherwise. */
    private static String editedPackage(Home home, Path mp) {
        try {
            JsonNode st = Json.parse(Files.readString(DaemonCommand.stateFile(home, mp)));
            return st.path("editable").asBoolean() ? st.path("package").asText() : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static Optional<ProcessHandle> daemon(Home home, Path mp) {
        try {
            JsonNode st = Json.parse(Files.readString(DaemonCommand.stateFile(home, mp)));
            return ProcessHandle.of(st.path("pid").asLong());
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
