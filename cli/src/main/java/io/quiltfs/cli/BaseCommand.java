package io.quiltfs.cli;

import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.state.Home;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/** What every subcommand shares: the root's global options and output. */
abstract class BaseCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    QuiltfsCommand root() {
        CommandLine c = spec.commandLine();
        while (c.getParent() != null) {
            c = c.getParent();
        }
        return (QuiltfsCommand) c.getCommand();
    }

    Output out() {
        return new Output(spec.commandLine().getOut(), root().json);
    }

    /** One line on stderr that does not fail the command: something the user should know. */
    void warn(String message) {
        java.io.PrintWriter err = spec.commandLine().getErr();
        err.println("quiltfs: warning: " + message);
        err.flush();
    }

    /**
     * Warns of each pointer a listing found bad (once each, on stderr) and returns them as
     * {@code --json}'s {@code problems}: registry, key, problem and the whole message.
     */
    com.fasterxml.jackson.databind.node.ArrayNode badPointers(
            java.util.List<io.quiltfs.store.registry.RegistryException.BadPointer> bad) {
        com.fasterxml.jackson.databind.node.ArrayNode arr = io.quiltfs.store.json.Json.NODES.arrayNode();
        for (io.quiltfs.store.registry.RegistryException.BadPointer b : bad) {
            warn(b.getMessage());
            arr.addObject().put("registry", b.registry()).put("key", b.key()).put("problem", b.problem())
                    .put("message", b.getMessage());
        }
        return arr;
    }

    Home home() {
        return root().home();
    }

    Registry openRegistry(String uri) throws java.io.IOException {
        return Registries.open(uri, root().s3());
    }

    io.quiltfs.store.workflow.Progress progress(Output out) {
        return out.interactive() ? new ProgressBar(System.err) : io.quiltfs.store.workflow.Progress.NONE;
    }
}
