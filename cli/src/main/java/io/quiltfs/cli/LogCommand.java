package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Log;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "log", mixinStandardHelpOptions = true,
        description = {"List a package's revisions, newest first.",
            "Time, top hash, message, tags, and which is the registry's latest, the local base and "
            + "head; local commits not pushed come first."})
final class LogCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME", description = "The package.")
    String pkg;

    @Option(names = {"-r", "--registry"}, paramLabel = "REGISTRY",
            description = "The registry (default: the one the package was installed from).")
    String registry;

    @Override
    public Integer call() throws Exception {
        PackageRef ref = PackageRef.parse(pkg);
        if (!ref.isLatest()) {
            throw new CliException(ExitCodes.USAGE, "log lists every revision of " + ref.name() + ": run `quiltfs log "
                    + ref.name() + "` (without @HASH or :TAG)");
        }
        PackageName name = ref.name();
        InstalledPackage p = InstalledPackage.find(home(), name);
        Output out = out();
        try (Registry reg = registryFor(registry, p)) {
            boolean sameRegistry = p != null && reg.uri().equals(p.state().registry);
            Log.Result log = Log.read(reg, name, sameRegistry ? p : null);
            List<Log.Line> lines = log.lines();
            ArrayNode arr = Json.NODES.arrayNode();
            for (Log.Line l : lines) {
                StringBuilder labels = new StringBuilder();
                if (l.local()) {
                    labels.append(" [local, not pushed]");
                }
                if (l.latest()) {
                    labels.append(" [latest]");
                }
                if (l.head()) {
                    labels.append(" [head]");
                }
                if (l.base() && !l.head()) {
                    labels.append(" [base]");
                }
                l.tags().forEach(t -> labels.append(" [").append(t).append(']'));
                String time = BrowseCommand.TIME.format(Instant.ofEpochSecond(l.timestamp()));
                out.line(time + "  " + l.topHash() + "  " + BrowseCommand.oneLine(l.message()) + labels);
                var o = arr.addObject().put("timestamp", l.timestamp()).put("time", time).put("top_hash", l.topHash())
                        .put("message", l.message()).put("latest", l.latest()).put("base", l.base())
                        .put("head", l.head()).put("local", l.local());
                o.set("tags", array(l.tags()));
            }
            ArrayNode problems = badPointers(log.problems());
            if (log.registryMissing() != null) {
                // Named as status names a registry it cannot ask: the local part is still shown.
                String m = Cli.message(log.registryMissing()) + "; only the local commits of " + name
                        + " are listed";
                warn(m);
                problems.addObject().put("registry", reg.uri()).putNull("key").put("problem", "no registry")
                        .put("message", m);
            }
            var json = Json.object().put("package", name.toString()).put("registry", reg.uri());
            json.set("revisions", arr);
            json.set("problems", problems);
            out.json(json);
            out.flush();
            // The log lists what it can; a bad latest still fails it (installing without @HASH fails too).
            return log.latestBad() ? ExitCodes.FAILURE : ExitCodes.OK;
        }
    }
}
