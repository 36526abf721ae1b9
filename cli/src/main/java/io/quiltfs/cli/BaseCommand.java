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
