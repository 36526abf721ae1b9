package io.quiltfs.store.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** Starts a main class of the test classpath in a child JVM (for multi-process tests). */
public final class ChildJvm {
    private ChildJvm() {
    }

    public static ProcessBuilder builder(Class<?> main, String... args) {
        return builder(List.of(), main, args);
    }

    /** {@link #builder(Class, String...)} with options for the JVM ({@code -Dname=value}, ...). */
    public static ProcessBuilder builder(List<String> jvmOptions, Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true);
    }

    public static Process start(Class<?> main, String... args) throws IOException {
        return builder(main, args).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** The path separator-joined classpath of this JVM. */
    public static String classpath() {
        return System.getProperty("java.class.path").replace(File.pathSeparatorChar, File.pathSeparatorChar);
    }
}
