package io.quiltfs.cli;

import io.quiltfs.fs.MountSettings;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.state.Home;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "mount", mixinStandardHelpOptions = true,
        description = {"Show a package revision as a folder; files are fetched when first read.",
            "Edits are kept in the home as uncommitted modifications; commit and push them with "
            + "`quiltfs commit|push MOUNTPOINT` or through MOUNTPOINT/.quiltfs/ctl. Returns once the "
            + "mount is ready; the file system runs in a background process (log in HOME/logs). Stop it "
            + "with `quiltfs unmount MOUNTPOINT`."})
final class MountCommand extends BaseCommand {
    /** System property: JVM options for the daemon in place of this process's JIT and collector options. */
    static final String DAEMON_JVM = "quiltfs.daemon.jvm";

    @Parameters(index = "0", paramLabel = "NS/NAME[@HASH|:TAG]",
            description = "The package: its latest revision, one top hash (or a unique prefix of 6+ hex digits), or a tag.")
    String ref;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An empty folder to show the package in.")
    Path mountpoint;

    @Option(names = {"-r", "--registry"}, required = true, paramLabel = "REGISTRY",
            description = "file:///abs/path, a local path, or s3://bucket.")
    String registry;

    @Option(names = "--read-only", description = "Refuse writes with EROFS (a package installed in a working folder"
            + " of this home is mounted read-only anyway; a second mount of a package mounted for editing needs it).")
    boolean readOnly;

    @Option(names = "--foreground", description = "Stay attached: serve the mount from this process until unmounted.")
    boolean foreground;

    @Option(names = "--cache-size", paramLabel = "SIZE",
            description = "Object cache limit, e.g. 20G (default: a quarter of the disk holding the home).")
    String cacheSize;

    @Override
    public Integer call() throws Exception {
        PackageRef pr = PackageRef.parse(ref);
        Path mp = mountpoint.toAbsolutePath().normalize();
        Home home = home();
        long cacheBytes = cacheSize == null ? MountSettings.defaultCacheBytes(home.objects())
                : MountSettings.parseSize(cacheSize);
        String topHash;
        String uri;
        try (Registry r = openRegistry(registry)) {
            topHash = r.resolve(pr);
            uri = r.uri();
        }
        checkMountpoint(mp);
        Output out = out();
        boolean editable = !readOnly;
        if (editable) {
            // Before the claim, which would say what the mount shows (and change the lineage).
            Path live = MountEditing.liveMountOf(home, pr.name());
            if (live != null) {
                throw new CliException(ExitCodes.CONFLICT, pr.name() + " is already mounted for editing at " + live
                        + "; mount it elsewhere with --read-only");
            }
            MountEditing.Claim c = MountEditing.claim(home, uri, pr.name(), topHash);
            if (c.readOnlyReason() != null) {
                out.line("note: read-only mount: " + c.readOnlyReason());
                editable = false;
            } else if (!c.top().equals(topHash)) {
                out.line("note: showing your local head " + c.top().substring(0, 12) + " of " + pr.name()
                        + " (it has local work) instead of " + topHash.substring(0, 12));
                topHash = c.top();
            }
        }
        if (foreground) {
            return DaemonCommand.serve(home, root().s3(), root().endpoint, uri, pr.name(), topHash, mp, cacheBytes,
                    true, editable, out);
        }
        Path log = DaemonCommand.logFile(home, mp);
        Files.createDirectories(log.getParent());
        long logStart = Files.exists(log) ? Files.size(log) : 0;
        Process p = spawn(home, uri, pr.name() + "@" + topHash, mp, cacheBytes, log, editable);
        waitReady(p, mp, log, logStart);
        out.line("mounted " + pr.name() + "@" + topHash.substring(0, 12) + " at " + mp
                + (editable ? " (editable)" : " (read-only)") + " (log: " + log + ")");
        out.json(Json.object().put("package", pr.name().toString()).put("top_hash", topHash).put("editable", editable)
                .put("registry", uri).put("mountpoint", mp.toString()).put("pid", p.pid())
                .put("log", log.toString()));
        return ExitCodes.OK;
    }

    /** Refuses a live mount and a missing folder; a stale mount is cleaned by the daemon. */
    static void checkMountpoint(Path mp) throws IOException {
        MountTable.Mount m = MountTable.at(mp);
        if (m != null && !FuseMount.isStale(mp)) {
            throw new CliException(ExitCodes.CONFLICT, mp + " is already a mount point (" + m.source()
                    + "); unmount it first with `quiltfs unmount " + mp + "`");
        }
        if (m == null && !Files.isDirectory(mp)) {
            throw new CliException(ExitCodes.NOT_FOUND, "mount point " + mp + " is not an existing folder (create it first)");
        }
        if (m == null) {
            try (java.util.stream.Stream<Path> s = Files.list(mp)) {
                if (s.findAny().isPresent()) {
                    throw new CliException(ExitCodes.CONFLICT, "mount point " + mp
                            + " is not empty: mount on an empty folder (a mount would hide what is there)");
                }
            }
        }
    }

    /**
     * How the daemon logs (to its log file): info, or debug with {@code --debug}. The loggers
     * that would print credentials stay quiet even then (simplelogger.properties, read by the
     * daemon too).
     */
    static List<String> daemonLogOptions(boolean debug) {
        return List.of("-Dorg.slf4j.simpleLogger.defaultLogLevel=" + (debug ? "debug" : "info"),
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSZ");
    }

    private Process spawn(Home home, String uri, String ref, Path mp, long cacheBytes, Path log, boolean editable)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Paths.get("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid"); // its own session: a closing terminal does not take the mount down
        }
        cmd.add(ProcessHandle.current().info().command().orElse(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
        // The launcher runs this short-lived command with a quick-start JIT and names the daemon's
        // own settings (the full JIT: C2 hashes with the CPU's SHA instructions) in DAEMON_JVM.
        String daemonJvm = System.getProperty(DAEMON_JVM, "").trim();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-agentlib") || a.startsWith("-javaagent") || a.startsWith("-Xdebug")) {
                continue;
            }
            if (!daemonJvm.isEmpty() && (a.startsWith("-XX:TieredStopAtLevel") || a.matches("-XX:\\+Use\\w*GC")
                    || a.startsWith("-D" + DAEMON_JVM + "="))) {
                continue;
            }
            cmd.add(a);
        }
        if (!daemonJvm.isEmpty()) {
            cmd.addAll(List.of(daemonJvm.split("\\s+")));
        }
        cmd.addAll(daemonLogOptions(root().debug));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.add("--home");
        cmd.add(home.root().toString());
        if (root().endpoint != null) {
            cmd.add("--endpoint");
            cmd.add(root().endpoint);
        }
        cmd.add(DaemonCommand.NAME);
        cmd.add(ref);
        cmd.add(mp.toString());
        cmd.add("--registry");
        cmd.add(uri);
        cmd.add("--cache-bytes");
        cmd.add(Long.toString(cacheBytes));
        if (!editable) {
            cmd.add("--read-only");
        }
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        // The daemon decodes the names the kernel passes with the locale's character set, and
        // tells a full disk by the system's English error text (Errno.of): a UTF-8, C locale
        // whatever the caller's (without LANG, as under cron, systemd or in a container, every
        // name outside ASCII was refused).
        pb.environment().put("LC_ALL", "C.UTF-8");
        return pb.start();
    }

    private static void waitReady(Process p, Path mp, Path log, long logStart) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            MountTable.Mount m = MountTable.at(mp);
            if (m != null && m.fsType().equals("fuse.quiltfs") && !FuseMount.isStale(mp)) {
                return;
            }
            if (!p.isAlive()) {
                throw new CliException(p.exitValue() == 0 ? ExitCodes.FAILURE : p.exitValue(),
                        "the mount of " + mp + " failed: " + lastLines(log, logStart) + " (log: " + log + ")");
            }
            Thread.sleep(20);
        }
        p.destroy();
        throw new CliException(ExitCodes.FAILURE, "the mount of " + mp + " was not ready within 60 s; see " + log);
    }

    private static String lastLines(Path log, long from) throws IOException {
        byte[] all = Files.readAllBytes(log);
        String s = new String(all, (int) Math.min(from, all.length), (int) (all.length - Math.min(from, all.length)),
                StandardCharsets.UTF_8).trim();
        String[] lines = s.split("\n");
        return lines.length == 0 || s.isEmpty() ? "(no log)" : lines[lines.length - 1].replaceFirst("^\\S+ \\[[^]]*\\] \\w+ ", "").replaceFirst("^quiltfs: error: ", "");
    }
}
