package io.quiltfs.nativetests.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * The package content both clients exchange, made fresh in each test: several folders, keys
 * whose walk order differs from a plain string sort, non-ASCII and astral-plane names, an empty
 * file, and a file over 8 MiB (two sha2-256-chunked chunks), with user metadata that exercises
 * canonical JSON (floats, big integers, non-ASCII, nesting).
 */
final class Fixture {
    static final String PACKAGE = "interop/quilt3";

    /** A file over 8 MiB: two chunks of the chunked checksum, several S3 multipart parts. */
    static final String BIG = "big/large.bin";
    static final int BIG_SIZE = 8 * 1024 * 1024 + 1234567;
    static final String EMPTY = "empty.dat";
    static final String NON_ASCII = "données/été.csv";
    static final String ASTRAL = "日本語/ファイル 😀.txt";
    /** Characters that URLs and percent-encoding treat specially. */
    static final String ODD = "odd/100% #1 ?a=b&c+d~'x';[é].txt";

    /** Package user metadata. */
    static final String PACKAGE_META = "{\"title\": \"interop \\u2713 données\", \"version\": 2.0, "
            + "\"nested\": {\"b\": [1, null, true], \"a\": \"x\"}, \"big\": 123456789012345678901234567890}";

    /** User metadata on files (logical key -> user_meta), for a package with the big file. */
    static final String FILE_META = "{\"" + BIG + "\": {\"chunks\": 2}, " + Fixture.FILE_META_REST;

    /** User metadata on files, for a package without the big file. */
    static final String FILE_META_SMALL = "{" + Fixture.FILE_META_REST;

    private static final String FILE_META_REST =
            "\"" + NON_ASCII + "\": {\"lang\": \"fr\", \"naïve\": \"☃ 😀\"}, "
            + "\"data/rows.csv\": {\"score\": 0.1, \"ratio\": 1e-05, \"n\": 12345678901234567890, \"ok\": true}, "
            // Canonical JSON corners: float spellings, control and non-BMP characters, key order
            // by code point (U+FF21 sorts before U+1F600 in Python, after it in UTF-16).
            + "\"" + ODD + "\": {\"floats\": [1e16, 1E+16, 123456789.123, -0.0, 1.7976931348623157e308, "
            + "5e-324, 100.0, 0.000123, 1e22], \"ctl\": \"tab\\tnl\\n\\u0001\\u007f\\u2028\\\\ \\\"/\", "
            + "\"\\uff21\": 1, \"\\ud83d\\ude00\": 2, \"z\": {\"\\u00e9\": [], \"e\": {}}}}";

    private Fixture() {
    }

    /** Writes the content under {@code dir}; returns key -> file. */
    static Map<String, Path> write(Path dir) throws IOException {
        return write(dir, true);
    }

    /**
     * Writes the content under {@code dir}, with or without the file over 8 MiB (round trips about
     * metadata and revisions leave it out to stay fast); returns key -> file.
     */
    static Map<String, Path> write(Path dir, boolean withBig) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("README.md", text("# interop\nA package that quilt3 and quiltfs both read.\n"));
        files.put("data/rows.csv", text("id,name\n1,alpha\n2,beta\n"));
        files.put("data/nested/deep/values.json", text("{\"values\": [1, 2, 3]}\n"));
        files.put(NON_ASCII, text("ville,été\nParis,oui\n"));
        files.put(ASTRAL, text("こんにちは 😀\n"));
        // Walk order is not string order: a/b.txt < a b/x.txt < a-b.txt < a.txt
        files.put("a/b.txt", text("a/b\n"));
        files.put("a b/x.txt", text("a b/x\n"));
        files.put("a-b.txt", text("a-b\n"));
        files.put("a.txt", text("a.txt\n"));
        files.put(ODD, text("odd name\n"));
        files.put(EMPTY, new byte[0]);
        if (withBig) {
            byte[] big = new byte[BIG_SIZE];
            new Random(7).nextBytes(big);
            files.put(BIG, big);
        }
        Map<String, Path> out = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, f.getValue());
            out.put(f.getKey(), p);
        }
        return out;
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
