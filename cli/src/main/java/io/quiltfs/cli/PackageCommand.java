package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.InstalledPackage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.function.Function;

/** What the workflow commands share: the installed package, its registry, object sources. */
abstract class PackageCommand extends BaseCommand {
    InstalledPackage installed(PackageName name) throws IOException {
        return InstalledPackage.require(home(), name);
    }

    /** The registry named on the command line, else the one the package was installed from. */
    Registry registryFor(String option, InstalledPackage p) throws IOException {
        if (option != null) {
            return openRegistry(option);
        }
        if (p == null) {
            throw new CliException(ExitCodes.USAGE, "name the registry with --registry (the package is not installed"
                    + " in " + home().root() + ")");
        }
        return openRegistry(p.state().registry);
    }

    /** Finds a source for any physical key: the registry itself when it can read it. */
    Function<PhysicalKey, ObjectSource> sources(Registry registry) {
        return pk -> {
            try {
                return Registries.sourceFor(pk, registry, root().s3());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    static ArrayNode array(Collection<String> items) {
        ArrayNode a = Json.NODES.arrayNode();
        items.forEach(a::add);
        return a;
    }
}
