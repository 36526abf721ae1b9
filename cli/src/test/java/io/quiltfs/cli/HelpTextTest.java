package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What a person reads in `--help`: whole paragraphs, and every argument explained. */
class HelpTextTest {
    /** Every command a person sees: not picocli's own help command, not the hidden daemon. */
    private static Iterable<CommandLine> commands() {
        Deque<CommandLine> todo = new ArrayDeque<>();
        Deque<CommandLine> all = new ArrayDeque<>();
        todo.add(Cli.commandLine());
        while (!todo.isEmpty()) {
            CommandLine c = todo.pop();
            todo.addAll(c.getSubcommands().values());
            if (!c.getCommandName().equals("help") && !c.getCommandSpec().usageMessage().hidden()) {
                all.add(c);
            }
        }
        return all;
    }

    /**
     * picocli wraps each description element on its own: an element that stops mid-sentence
     * leaves a short line and the sentence goes on below it (`writes the manifest and` /
     * `pointers,` / `and prints the top hash.`).
     */
    @Test
    void descriptionsAreWholeParagraphs() {
        for (CommandLine c : commands()) {
            for (String line : c.getCommandSpec().usageMessage().description()) {
                String s = line.strip();
                assertTrue(s.endsWith(".") || s.endsWith(".)"),
                        c.getCommandSpec().qualifiedName() + ": a description element ends mid-sentence: " + line);
            }
        }
    }

    @Test
    void everyArgumentIsDescribed() {
        for (CommandLine c : commands()) {
            for (CommandLine.Model.ArgSpec a : c.getCommandSpec().args()) {
                if (a.hidden()) {
                    continue;
                }
                String name = a instanceof CommandLine.Model.OptionSpec o ? o.longestName() : a.paramLabel();
                assertTrue(a.description().length > 0 && !String.join("", a.description()).isBlank(),
                        c.getCommandSpec().qualifiedName() + ": " + name + " has no description");
            }
        }
    }

    @Test
    void pathsAreNotCutAtTheLineEnd() {
        for (CommandLine c : commands()) {
            String usage = c.getUsageMessage(CommandLine.Help.Ansi.OFF);
            for (String line : usage.split("\n")) {
                assertFalse(line.stripTrailing().endsWith("/."),
                        c.getCommandSpec().qualifiedName() + ": a path is cut at a line end: " + line);
            }
        }
    }

    /** A mistyped command is called a command, and the near names are offered. */
    @Test
    void unknownCommandIsNamedWithSuggestions() {
        CliRunner.Result r = CliRunner.run("instal", "team/data");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().startsWith("quiltfs: unknown command 'instal'"), r.err());
        assertTrue(r.err().contains("install"), r.err());
        r = CliRunner.run("--json", "nosuch");
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.out().contains("unknown command 'nosuch'"), r.out());
    }

    /** The README names four places an S3 endpoint can come from; --help names them too. */
    @Test
    void endpointHelpNamesTheProfile() {
        String usage = Cli.commandLine().getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
        assertTrue(usage.contains("endpoint_url"), usage);
    }
}
