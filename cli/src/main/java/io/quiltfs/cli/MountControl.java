package io.quiltfs.cli;

import io.quiltfs.fs.PackageFs;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.workflow.InstalledPackage;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the workflow verbs ({@code status}, {@code commit}, {@code push}, {@code pull}) on an
 * editable mount, in the process that serves it: the same commands as the package-name forms,
 * run in-process with the mount's working files attached to the package. A commit sees a
 * snapshot of the changes and rebases the mount on the new revision; a pull sees the live
 * files and rebases on what it wrote. One verb at a time.
 */
final class MountControl implements PackageFs.Control {
    private static final Logger log = LoggerFactory.getLogger(MountControl.class);
    static final Set<String> VERBS = Set.of("status", "commit", "push", "pull");
    /**
     * Begins each line of a result that the command wrote on stderr (warnings, errors), so that
     * a client gives stdout (the report, JSON with --json) and stderr back apart.
     */
    static final String ERR = "2> ";

    private final Home home;
    private final String endpoint;
    private final PackageFs fs;
    private final PackageName pkg;
    private final Path workDir;

    MountControl(Home home, String endpoint, PackageFs fs) {
        this.home = home;
        this.endpoint = endpoint;
        this.fs = fs;
        this.pkg = fs.packageName();
        this.workDir = home.mountArea(pkg);
    }

    @Override
    public String status() {
        // The report only: a warning is in its problems, and the file stays JSON.
        return MountEditing.Result.parse(run(List.of("--json", "status"))).output();
    }

    /**
     * Runs each command line of {@code text} in order (a newline outside quotes ends one, so
     * {@code printf 'commit -m a\npush\n'} commits then pushes) and stops after the first that
     * fails: a push never follows a failed commit. The outputs follow each other, each ending
     * with its {@code exit N}. The lines of one write run together: another descriptor's
     * commands wait, so {@code commit; push} never pushes someone else's commit.
     */
    @Override
    public synchronized String run(String text) {
        List<List<String>> commands;
        try {
            commands = commands(text);
        } catch (IllegalArgumentException e) {
            return ERR + "quiltfs: error: " + e.getMessage() + "\nexit " + ExitCodes.USAGE + "\n";
        }
        StringBuilder out = new StringBuilder();
        for (List<String> words : commands) {
            String result = run(words);
            out.append(result);
            if (!result.endsWith("\nexit 0\n") && !result.equals("exit 0\n")) {
                break;
            }
        }
        return out.toString();
    }

    synchronized String run(List<String> words) {
        List<String> w = new ArrayList<>(words);
        List<String> global = new ArrayList<>();
        while (!w.isEmpty() && (w.get(0).equals("--json") || w.get(0).equals("--debug"))) {
            global.add(w.remove(0));
        }
        if (w.isEmpty() || !VERBS.contains(w.get(0))) {
            return ERR + "quiltfs: error: a mount runs " + String.join(", ", new java.util.TreeSet<>(VERBS))
                    + " (got '" + String.join(" ", words) + "')\nexit " + ExitCodes.USAGE + "\n";
        }
        String verb = w.remove(0);
        String relative = verb.equals("commit") ? relativeFile(w) : null;
        if (relative != null) {
            return ERR + "quiltfs: error: --meta-file through " + PackageFs.RESERVED + "/ctl takes an absolute path ('"
                    + relative + "' is relative, and the mount's process does not run in your current folder);"
                    + " nothing was committed. Give the full path, or run `quiltfs " + verb + " MOUNTPOINT ...` in"
                    + " that folder\nexit " + ExitCodes.USAGE + "\n";
        }
        List<String> args = new ArrayList<>(List.of("--home", home.root().toString()));
        if (endpoint != null) {
            args.add("--endpoint");
            args.add(endpoint);
        }
        args.addAll(global);
        args.add(verb);
        args.add(pkg.toString());
        args.addAll(w);
        Outputs sw = new Outputs();
        int code;
        try {
            PackageFs.Snapshot snap = null;
            String before = head();
            PackageState was = Lineage.read(home).get(pkg);
            // A pull marked before the verb: what it placed is taken in once no pull is marked any
            // more (finished, or abandoned: an abandon leaves the head where it was).
            boolean marked = was != null && was.pulling != null;
            if (verb.equals("commit")) {
                snap = fs.snapshot();
                InstalledPackage.attach(workDir, snap.files());
            } else {
                if (verb.equals("pull")) {
                    fs.beginPull();
                }
                InstalledPackage.attach(workDir, fs.liveFiles());
            }
            try {
                code = execute(args, sw);
                String after = head();
                if (after != null && !after.equals(before)) {
                    InstalledPackage p = InstalledPackage.require(home, pkg);
                    fs.rebase(p.head(), after, snap);
                    log.info("{} {}: the mount now shows {}", verb, pkg, after);
                }
                PackageState now = Lineage.read(home).get(pkg);
                if (marked && now != null && now.pulling == null) {
                    try {
                        // The stopped pull's copies the rebase did not take in, and an abandon's
                        // copies of the head's rows (no rebase follows it).
                        fs.takeInFinishedPull();
                    } catch (java.io.IOException e) {
                        // The pull is done; what could not be compared stays a change.
                        log.warn("{} {}: the copies of the stopped pull could not all be compared with their rows"
                                + " (they stay in the working area): {}", verb, pkg, e.toString());
                    }
                }
            } finally {
                fs.endPull();
                InstalledPackage.attach(workDir, fs.liveFiles());
            }
        } catch (Exception e) {
            log.warn("{} on the mount of {}: {}", verb, pkg, e.toString());
            sw.error("quiltfs: error: " + Cli.message(e) + "\n");
            code = Cli.exitCode(e);
        }
        String out = sw.text.toString();
        return out + (out.isEmpty() || out.endsWith("\n") ? "" : "\n") + "exit " + code + "\n";
    }

    /**
     * The relative path given to {@code --meta-file} in {@code args}, else null. A command written
     * to ctl runs in the mount's process, whose current folder is the one {@code quiltfs mount}
     * ran in: a relative file would be read from there (another file of the same name, or none),
     * never from the folder of whoever wrote the command.
     */
    static String relativeFile(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String file = a.equals("--meta-file") && i + 1 < args.size() ? args.get(i + 1)
                    : a.startsWith("--meta-file=") ? a.substring("--meta-file=".length()) : null;
            try {
                if (file != null && !java.nio.file.Paths.get(file).isAbsolute()) {
                    return file;
                }
            } catch (java.nio.file.InvalidPathException e) {
                return file;
            }
        }
        return null;
    }

    private String head() throws java.io.IOException {
        PackageState s = Lineage.read(home).get(pkg);
        return s == null ? null : s.head;
    }

    private static int execute(List<String> args, Outputs sw) {
        PrintWriter out = new PrintWriter(sw.out, true);
        PrintWriter err = new PrintWriter(sw.err, true);
        picocli.CommandLine cl = Cli.commandLine();
        // An @file would be read from the folder `quiltfs mount` ran in, not the writer's (so a
        // relative --meta-file would get past its refusal as `@opts`); the CLI's forms have
        // expanded theirs already, on the client's side.
        cl.setExpandAtFiles(false);
        cl.setOut(out);
        cl.setErr(err);
        int code = cl.execute(args.toArray(new String[0]));
        out.flush();
        err.flush();
        return code;
    }

    /**
     * A command's stdout and stderr into one result, in the order written: each line of stderr
     * begins with {@link #ERR}; a line one of them left open is ended when the other writes.
     */
    private static final class Outputs {
        final StringBuilder text = new StringBuilder();
        /** Which output the last line, when not ended, belongs to (null: none is open). */
        Channel open;
        final Channel out = new Channel(this, "");
        final Channel err = new Channel(this, ERR);

        void error(String line) {
            err.write(line.toCharArray(), 0, line.length());
        }
    }

    /** One output of a command into its {@link Outputs}. */
    private static final class Channel extends java.io.Writer {
        private final Outputs to;
        private final String mark;

        Channel(Outputs to, String mark) {
            this.to = to;
            this.mark = mark;
        }

        @Override
        public void write(char[] buf, int off, int len) {
            StringBuilder t = to.text;
            for (int i = off; i < off + len; i++) {
                if (to.open != this) {
                    if (to.open != null) {
                        t.append('\n');
                    }
                    t.append(mark);
                    to.open = this;
                }
                t.append(buf[i]);
                if (buf[i] == '\n') {
                    to.open = null;
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /**
     * The command lines of {@code text}, each as its words, split as a POSIX shell splits
     * (quotes, backslash escapes); a newline outside quotes ends a command, a quoted one is
     * part of its word, a backslash before it joins the lines. Empty lines are skipped.
     */
    static List<List<String>> commands(String text) {
        List<List<String>> commands = new ArrayList<>();
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean in = false;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else if (c == '\\' && i + 1 < text.length() && "\"\\$`".indexOf(text.charAt(i + 1)) >= 0) {
                    cur.append(text.charAt(++i));
                } else if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                    i++; // a continued line, as in the shell
                } else {
                    cur.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                in = true;
            } else if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                i++;
            } else if (c == '\\' && i + 1 < text.length()) {
                cur.append(text.charAt(++i));
                in = true;
            } else if (Character.isWhitespace(c)) {
                if (in) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    in = false;
                }
                if (c == '\n' && !out.isEmpty()) {
                    commands.add(out);
                    out = new ArrayList<>();
                }
            } else {
                cur.append(c);
                in = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unbalanced " + quote + " in the command line");
        }
        if (in) {
            out.add(cur.toString());
        }
        if (!out.isEmpty()) {
            commands.add(out);
        }
        return commands;
    }

    /** Quotes words so that {@link #commands} gives them back as one command. */
    static String join(List<String> words) {
        StringBuilder sb = new StringBuilder();
        for (String w : words) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append('\'').append(w.replace("'", "'\\''")).append('\'');
        }
        return sb.toString();
    }

}
