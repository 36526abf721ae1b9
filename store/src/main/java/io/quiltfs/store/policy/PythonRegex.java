package io.quiltfs.store.policy;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A Python {@code re} pattern (a str pattern, as quilt3's {@code handle_pattern} and jsonschema's
 * {@code pattern} are) translated to a Java {@link Pattern} that matches the same strings, or refused
 * where Python's {@code re.compile} refuses it. Python and Java spell several things differently:
 * named groups ({@code (?P<team_name>)}, Java names allow letters and digits only), {@code {,n}},
 * a {@code {} that is no quantifier (a literal in Python), {@code \Z} (Java's {@code \z}),
 * {@code \v}, {@code [} and {@code &&} inside a class (literals in Python), comments and verbose
 * mode; and Java accepts constructs Python refuses ({@code \p{L}}, {@code \h}, {@code \R}, {@code
 * \Q..\E}, {@code \z}, {@code (?<n>...)}). Python's str patterns are Unicode-aware: {@code \w},
 * {@code \d}, {@code \s}, {@code \b} and case folding follow Unicode unless the {@code a} flag is set.
 *
 * <p>Not translated (refused with a message saying quiltfs does not support them, though Python
 * accepts them): conditional groups {@code (?(1)a|b)} and a reference to a group inside a
 * look-behind ({@code (a)(?<=\1)b}); java.util.regex has neither.
 */
final class PythonRegex {
    private final String src;
    private int i;
    private final StringBuilder out = new StringBuilder();
    private int groups;
    private final Map<String, Integer> names = new HashMap<>();
    private final Set<Integer> open = new HashSet<>();
    /** The open parentheses, innermost first; {@link #top} is the pattern itself. */
    private final Deque<Frame> stack = new ArrayDeque<>();
    private final Frame top = new Frame(0, false, 0, 0);
    /** The width of each closed group, for a reference to it. */
    private final Map<Integer, long[]> widths = new HashMap<>();
    /** Width of an unbounded repeat (saturates: Python's MAXREPEAT is larger than any pattern). */
    private static final long INF = Long.MAX_VALUE / 4;

    /**
     * An open parenthesis: its group number (0 when not capturing), the verbose flag outside it,
     * whether it is a look-around (1 ahead, 2 behind), the groups opened before it, and the width
     * (least, most characters) of what was read in it so far, for Python's rule that a look-behind
     * has a fixed width.
     */
    private static final class Frame {
        final int group;
        final boolean verboseOutside;
        final int look;
        final int groupsBefore;
        long lo;
        long hi;
        long altLo = -1;
        long altHi = -1;
        long atomLo;
        long atomHi;
        /** The {@code a} flag outside this group (a scoped {@code (?a:...)} sets it inside). */
        boolean asciiOutside;

        Frame(int group, boolean verboseOutside, int look, int groupsBefore) {
            this.group = group;
            this.verboseOutside = verboseOutside;
            this.look = look;
            this.groupsBefore = groupsBefore;
        }

        void atom(long l, long h) {
            atomLo = l;
            atomHi = h;
            lo = Math.min(INF, lo + l);
            hi = Math.min(INF, hi + h);
        }

        /** The last atom repeated {@code min} to {@code max} times. */
        void repeat(long min, long max) {
            lo = Math.min(INF, lo - atomLo + Math.min(INF, atomLo * min));
            hi = max >= INF ? (atomHi == 0 ? hi : INF) : Math.min(INF, hi - atomHi + Math.min(INF, atomHi * max));
        }

        void alternative() {
            altLo = altLo < 0 ? lo : Math.min(altLo, lo);
            altHi = altHi < 0 ? hi : Math.max(altHi, hi);
            lo = 0;
            hi = 0;
        }

        long[] width() {
            alternative();
            return new long[]{altLo, altHi};
        }
    }

    /** Whether the {@code a} flag holds here (globally or in a scoped group). */
    private boolean asciiNow;

    private void push(Frame f) {
        f.asciiOutside = asciiNow;
        stack.push(f);
    }

    /** Python's word characters: str.isalnum() or '_' ({@code \\w} of java.util.regex also has marks). */
    private String word() {
        return asciiNow ? "(?-i:[a-zA-Z0-9_])" : "[\\p{L}\\p{N}_]";
    }

    private Frame cur() {
        return stack.isEmpty() ? top : stack.peek();
    }
    private boolean verbose;
    private boolean ascii;
    private boolean ignoreCase;
    private boolean multiline;
    private boolean dotall;

    /** The pattern is not a valid Python regular expression; the message says why (one line). */
    static final class Invalid extends IllegalArgumentException {
        Invalid(String message) {
            super(message);
        }
    }

    private PythonRegex(String src) {
        this.src = src;
    }

    /** Compiles {@code pattern} with Python's syntax and semantics; use {@code find()} as re.search. */
    static Pattern compile(String pattern) {
        PythonRegex r = new PythonRegex(pattern);
        String java = r.translate();
        int flags = Pattern.UNIX_LINES;
        if (!r.ascii) {
            flags |= Pattern.UNICODE_CHARACTER_CLASS;
        }
        if (r.ignoreCase) {
            flags |= Pattern.CASE_INSENSITIVE | (r.ascii ? 0 : Pattern.UNICODE_CASE);
        }
        if (r.multiline) {
            flags |= Pattern.MULTILINE;
        }
        if (r.dotall) {
            flags |= Pattern.DOTALL;
        }
        try {
            return Pattern.compile(java, flags);
        } catch (PatternSyntaxException e) {
            throw new Invalid(e.getDescription());
        }
    }

    private Invalid error(String what) {
        return new Invalid(what + " at position " + i);
    }

    private String translate() {
        globalFlags();
        asciiNow = ascii;
        boolean canRepeat = false;
        while (i < src.length()) {
            char c = src.charAt(i);
            if (verbose && skipVerbose()) {
                continue;
            }
            boolean repeated = c == '*' || c == '+' || c == '?' || (c == '{' && braceQuantifier() != null);
            if (!repeated) {
                lastRepeat = false;
            }
            switch (c) {
                case '\\' -> {
                    escLo = 1;
                    escHi = 1;
                    escape(false);
                    cur().atom(lastWasAnchor ? 0 : escLo, lastWasAnchor ? 0 : escHi);
                    canRepeat = !lastWasAnchor;
                }
                case '[' -> {
                    charClass();
                    cur().atom(1, 1);
                    canRepeat = true;
                }
                case '(' -> canRepeat = group();
                case ')' -> {
                    if (stack.isEmpty()) {
                        throw error("unbalanced parenthesis");
                    }
                    Frame g = stack.pop();
                    open.remove(g.group);
                    verbose = g.verboseOutside;
                    asciiNow = g.asciiOutside;
                    long[] w = g.width();
                    if (g.look == 2 && w[0] != w[1]) {
                        throw error("look-behind requires fixed-width pattern");
                    }
                    if (g.group > 0) {
                        widths.put(g.group, w);
                    }
                    cur().atom(g.look > 0 ? 0 : w[0], g.look > 0 ? 0 : w[1]);
                    out.append(')');
                    i++;
                    canRepeat = true;
                }
                case '*', '+', '?' -> {
                    repeat(canRepeat, String.valueOf(c), 1);
                    cur().repeat(c == '+' ? 1 : 0, c == '?' ? 1 : INF);
                    canRepeat = false;
                }
                case '{' -> {
                    String q = braceQuantifier();
                    if (q == null) {
                        out.append("\\{");
                        i++;
                        canRepeat = true;
                    } else {
                        repeat(canRepeat, q, braceLength);
                        String[] mn = q.substring(1, q.length() - 1).split(",", -1);
                        long min = Long.parseLong(mn[0]);
                        cur().repeat(min, mn.length == 1 ? min : mn[1].isEmpty() ? INF : Long.parseLong(mn[1]));
                        canRepeat = false;
                    }
                }
                case '.' -> {
                    out.append('.');
                    i++;
                    cur().atom(1, 1);
                    canRepeat = true;
                }
                case '^', '$' -> {
                    out.append(c);
                    i++;
                    cur().atom(0, 0);
                    canRepeat = false;
                }
                case '|' -> {
                    out.append(c);
                    i++;
                    cur().alternative();
                    canRepeat = false;
                }
                default -> {
                    cur().atom(1, 1);
                    literal(src.codePointAt(i));
                    i += Character.charCount(src.codePointAt(i));
                    canRepeat = true;
                }
            }
        }
        if (!stack.isEmpty()) {
            throw error("missing ), unterminated subpattern");
        }
        return out.toString();
    }

    private boolean lastWasAnchor;
    /** The width of the last escape read outside a class (a reference: its group's). */
    private long escLo;
    private long escHi;
    /** Whether the last thing read was a quantifier (for Python's "multiple repeat"). */
    private boolean lastRepeat;
    private int braceLength;

    /** Python: a repeat needs something to repeat; a second one is an error unless it is {@code ?} or {@code +}. */
    private void repeat(boolean canRepeat, String quantifier, int length) {
        if (!canRepeat) {
            throw error(lastRepeat ? "multiple repeat" : "nothing to repeat");
        }
        out.append(quantifier);
        lastRepeat = true;
        i += length;
        if (i < src.length() && (src.charAt(i) == '?' || src.charAt(i) == '+')) {
            out.append(src.charAt(i)); // lazy or possessive (Python 3.11), as in Java
            i++;
        }
    }

    /** A {@code {m,n}} quantifier in Java spelling, or null when Python reads the brace as a literal. */
    private String braceQuantifier() {
        int j = i + 1;
        int lo = j;
        while (j < src.length() && isAsciiDigit(src.charAt(j))) {
            j++;
        }
        String min = src.substring(lo, j);
        String max = min;
        if (j < src.length() && src.charAt(j) == ',') {
            int hi = ++j;
            while (j < src.length() && isAsciiDigit(src.charAt(j))) {
                j++;
            }
            max = src.substring(hi, j);
        } else if (min.isEmpty()) {
            return null;
        }
        if (j >= src.length() || src.charAt(j) != '}') {
            return null;
        }
        braceLength = j + 1 - i;
        String m = min.isEmpty() ? "0" : min;
        if (!max.isEmpty() && new java.math.BigInteger(m).compareTo(new java.math.BigInteger(max)) > 0) {
            throw error("min repeat greater than max repeat");
        }
        if (m.length() > 9 || max.length() > 9) {
            throw error("the repetition number is too large for quiltfs");
        }
        return "{" + m + (src.charAt(i + 1 + min.length()) == '}' ? "" : "," + max) + "}";
    }

    /** Skips whitespace and a comment in verbose mode; true when it skipped something. */
    private boolean skipVerbose() {
        char c = src.charAt(i);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0b) {
            i++;
            return true;
        }
        if (c == '#') {
            while (i < src.length() && src.charAt(i) != '\n') {
                i++;
            }
            return true;
        }
        return false;
    }

    /** Flags at the very start, {@code (?aiLmsux)}: Python 3.11 refuses them anywhere else. */
    private void globalFlags() {
        while (src.startsWith("(?", i) && i + 2 < src.length() && "aiLmsux".indexOf(src.charAt(i + 2)) >= 0) {
            int j = i + 2;
            StringBuilder f = new StringBuilder();
            while (j < src.length() && "aiLmsux".indexOf(src.charAt(j)) >= 0) {
                f.append(src.charAt(j++));
            }
            if (j >= src.length() || src.charAt(j) != ')') {
                return; // scoped flags (?i:...) or an error, read as a group
            }
            setFlags(f.toString(), true);
            i = j + 1;
        }
    }

    private void setFlags(String f, boolean global) {
        if (f.indexOf('L') >= 0) {
            throw error("bad inline flags: cannot use 'L' flag with a str pattern");
        }
        if (f.indexOf('a') >= 0 && f.indexOf('u') >= 0) {
            throw error("bad inline flags: flags 'a', 'u' and 'L' are incompatible");
        }
        if (global) {
            ascii |= f.indexOf('a') >= 0;
            ignoreCase |= f.indexOf('i') >= 0;
            multiline |= f.indexOf('m') >= 0;
            dotall |= f.indexOf('s') >= 0;
            verbose |= f.indexOf('x') >= 0;
        }
    }

    /** A parenthesis: returns whether a quantifier may follow the group (false for a comment). */
    private boolean group() {
        if (!src.startsWith("(?", i)) {
            groups++;
            open(groups, 0);
            out.append('(');
            i++;
            return true;
        }
        i += 2;
        if (i >= src.length()) {
            throw error("unexpected end of pattern");
        }
        char c = src.charAt(i);
        switch (c) {
            case ':', '=', '!', '>' -> {
                out.append("(?").append(c);
                i++;
                open(0, c == '=' || c == '!' ? 1 : 0);
                return true;
            }
            case '<' -> {
                if (src.startsWith("<=", i) || src.startsWith("<!", i)) {
                    out.append("(?").append(src, i, i + 2);
                    i += 2;
                    open(0, 2);
                    return true;
                }
                throw error("unknown extension ?<" + (i + 1 < src.length() ? src.charAt(i + 1) : ""));
            }
            case '#' -> {
                int end = src.indexOf(')', i);
                if (end < 0) {
                    throw error("missing ), unterminated comment");
                }
                i = end + 1;
                return false;
            }
            case 'P' -> {
                return namedGroup();
            }
            case '(' -> throw error("conditional groups (?(...)...) are not supported by quiltfs");
            default -> {
                return scopedFlags();
            }
        }
    }

    private boolean namedGroup() {
        i++;
        if (src.startsWith("<", i)) {
            int end = src.indexOf('>', i);
            if (end < 0) {
                throw error("missing >, unterminated name");
            }
            String name = src.substring(i + 1, end);
            checkName(name);
            if (names.containsKey(name)) {
                throw error("redefinition of group name '" + name + "'");
            }
            groups++;
            names.put(name, groups);
            i = end + 1;
            out.append("(?<g").append(groups).append('>');
            open(groups, 0);
            return true;
        }
        if (src.startsWith("=", i)) {
            int end = src.indexOf(')', i);
            if (end < 0) {
                throw error("missing ), unterminated name");
            }
            String name = src.substring(i + 1, end);
            checkName(name);
            Integer g = names.get(name);
            if (g == null) {
                throw error("unknown group name '" + name + "'");
            }
            if (open.contains(g)) {
                throw error("cannot refer to an open group");
            }
            reference(g);
            i = end + 1;
            out.append("(?:\\k<g").append(g).append(">)");
            long[] w = widths.get(g);
            cur().atom(w[0], w[1]);
            return true;
        }
        throw error("unknown extension ?P" + (i < src.length() ? src.charAt(i) : ""));
    }

    private void checkName(String name) {
        if (name.isEmpty()) {
            throw error("missing group name");
        }
        boolean ok = Character.isUnicodeIdentifierStart(name.codePointAt(0)) || name.charAt(0) == '_';
        for (int k = 0; ok && k < name.length(); k += Character.charCount(name.codePointAt(k))) {
            int cp = name.codePointAt(k);
            ok = Character.isUnicodeIdentifierPart(cp) && !Character.isIdentifierIgnorable(cp);
        }
        if (!ok) {
            throw error("bad character in group name '" + name + "'");
        }
    }

    /** {@code (?i:...)}, {@code (?-i:...)}, {@code (?a-s:...)}: flags for a group only. */
    private boolean scopedFlags() {
        int j = i;
        StringBuilder on = new StringBuilder();
        StringBuilder off = new StringBuilder();
        while (j < src.length() && "aiLmsux".indexOf(src.charAt(j)) >= 0) {
            on.append(src.charAt(j++));
        }
        if (j < src.length() && src.charAt(j) == '-') {
            j++;
            while (j < src.length() && "imsx".indexOf(src.charAt(j)) >= 0) {
                off.append(src.charAt(j++));
            }
            if (off.length() == 0) {
                throw error("missing flag");
            }
        }
        if (j >= src.length()) {
            throw error("missing -, : or )");
        }
        if (src.charAt(j) == ')') {
            throw error("global flags not at the start of the expression");
        }
        if (src.charAt(j) != ':' || on.length() + off.length() == 0) {
            throw error("unknown extension ?" + src.charAt(i));
        }
        setFlags(on.toString(), false);
        for (char f : off.toString().toCharArray()) {
            if (on.indexOf(String.valueOf(f)) >= 0) {
                throw error("bad inline flags: flag turned on and off");
            }
        }
        StringBuilder jOn = new StringBuilder();
        StringBuilder jOff = new StringBuilder();
        for (char f : on.toString().toCharArray()) {
            switch (f) {
                case 'i' -> jOn.append(ascii || on.indexOf("a") >= 0 ? "i" : "iu");
                case 'm', 's' -> jOn.append(f);
                case 'a' -> jOff.append('U');
                case 'u' -> jOn.append(ascii ? "" : "U");
                default -> { }
            }
        }
        for (char f : off.toString().toCharArray()) {
            if (f != 'x') {
                jOff.append(f);
            }
        }
        out.append("(?").append(jOn).append(jOff.length() > 0 ? "-" + jOff : "").append(':');
        push(new Frame(0, verbose, 0, groups));
        if (on.indexOf("a") >= 0) {
            asciiNow = true;
        }
        if (on.indexOf("x") >= 0) {
            verbose = true;
        } else if (off.indexOf("x") >= 0) {
            verbose = false;
        }
        i = j + 1;
        return true;
    }

    /** Python refuses a reference, inside a look-behind, to a group defined in it. */
    private void reference(int g) {
        for (Frame f : stack) {
            if (f.look == 2 && g > f.groupsBefore) {
                throw error("cannot refer to group defined in the same lookbehind subpattern");
            }
        }
        for (Frame f : stack) {
            if (f.look == 2) {
                throw error("a group reference inside a look-behind is not supported by quiltfs");
            }
        }
    }

    private void open(int group, int look) {
        push(new Frame(group, verbose, look, group > 0 ? group - 1 : groups));
        if (group > 0) {
            open.add(group);
        }
    }

    /** A character class, with {@code [} and {@code &} as the literals Python reads them as. */
    private void charClass() {
        int start = i;
        i++;
        out.append('[');
        if (i < src.length() && src.charAt(i) == '^') {
            out.append('^');
            i++;
        }
        boolean first = true;
        while (true) {
            if (i >= src.length()) {
                i = start;
                throw error("unterminated character set");
            }
            char c = src.charAt(i);
            if (c == ']' && !first) {
                out.append(']');
                i++;
                return;
            }
            first = false;
            int lo = classAtom();
            if (i + 1 < src.length() && src.charAt(i) == '-' && src.charAt(i + 1) != ']') {
                int dash = i;
                i++;
                out.append('-');
                int hi = classAtom();
                if (lo < 0 || hi < 0) {
                    i = dash - 1;
                    throw error("bad character range");
                }
                if (hi < lo) {
                    throw error("bad character range");
                }
            }
        }
    }

    /** One item of a class, appended; its code point, or -1 for a category such as {@code \d}. */
    private int classAtom() {
        char c = src.charAt(i);
        if (c == '\\') {
            return escape(true);
        }
        int cp = src.codePointAt(i);
        i += Character.charCount(cp);
        literal(cp);
        return cp;
    }

    private void literal(int cp) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_' || cp > 127) {
            out.appendCodePoint(cp);
        } else {
            out.append(String.format("\\x{%x}", cp));
        }
    }

    /**
     * A backslash escape at {@code i}, appended in Java spelling; returns its code point, or -1 for
     * a category or an anchor (sets {@link #lastWasAnchor}).
     */
    private int escape(boolean inClass) {
        lastWasAnchor = false;
        if (i + 1 >= src.length()) {
            throw error("bad escape (end of pattern)");
        }
        char c = src.charAt(i + 1);
        int at = i;
        i += 2;
        switch (c) {
            case 'd', 'D' -> {
                out.append('\\').append(c);
                return -1;
            }
            case 'w', 's' -> {
                // Python's classes, where they differ from Java's (marks in \\w; \\x1c-\\x1f in \\s)
                String set = c == 'w' ? (asciiNow ? "\\w" : "\\p{L}\\p{N}_") : (asciiNow ? "\\s" : "\\s\\x{1c}-\\x{1f}");
                out.append(inClass || set.length() == 2 ? set : "[" + set + "]");
                return -1;
            }
            case 'W', 'S' -> {
                String set = c == 'W' ? (asciiNow ? "\\w" : "\\p{L}\\p{N}_") : (asciiNow ? "\\s" : "\\s\\x{1c}-\\x{1f}");
                out.append(set.length() == 2 ? "\\" + c : "[^" + set + "]");
                return -1;
            }
            case 'A', 'B', 'Z' -> {
                if (inClass) {
                    i = at;
                    throw error("bad escape \\" + c);
                }
                if (c == 'B') {
                    // not a boundary; and never in the empty string, as in Python
                    String w = word();
                    out.append("(?:(?<=").append(w).append(")(?=").append(w).append(")|(?<!").append(w).append(")(?!")
                            .append(w).append("))(?!\\A\\z)");
                } else {
                    out.append(c == 'Z' ? "\\z" : "\\" + c);
                }
                lastWasAnchor = true;
                return -1;
            }
            case 'b' -> {
                if (inClass) {
                    literal(8);
                    return 8;
                }
                // Python's word boundary, by its word characters
                String w = word();
                out.append("(?:(?<=").append(w).append(")(?!").append(w).append(")|(?<!").append(w).append(")(?=")
                        .append(w).append("))");
                lastWasAnchor = true;
                return -1;
            }
            case 'a' -> { literal(7); return 7; }
            case 'f' -> { literal('\f'); return '\f'; }
            case 'n' -> { literal('\n'); return '\n'; }
            case 'r' -> { literal('\r'); return '\r'; }
            case 't' -> { literal('\t'); return '\t'; }
            case 'v' -> { literal(0x0b); return 0x0b; }
            case 'x' -> { return hexEscape(at, 2); }
            case 'u' -> { return hexEscape(at, 4); }
            case 'U' -> { return hexEscape(at, 8); }
            case 'N' -> {
                int end = src.indexOf('}', i);
                if (!src.startsWith("{", i) || end < 0) {
                    i = at;
                    throw error("missing {");
                }
                String name = src.substring(i + 1, end);
                int cp;
                try {
                    cp = Character.codePointOf(name);
                } catch (IllegalArgumentException e) {
                    i = at;
                    throw error("undefined character name '" + name + "'");
                }
                i = end + 1;
                literal(cp);
                return cp;
            }
            default -> { }
        }
        if (c >= '0' && c <= '9') {
            return digits(at, inClass);
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
            i = at;
            throw error("bad escape \\" + c);
        }
        int cp = src.codePointAt(at + 1);
        i = at + 1 + Character.charCount(cp);
        literal(cp);
        return cp;
    }

    private int hexEscape(int at, int n) {
        if (i + n > src.length()) {
            i = at;
            throw error("incomplete escape \\" + src.charAt(at + 1));
        }
        String hex = src.substring(i, i + n);
        for (char h : hex.toCharArray()) {
            if (Character.digit(h, 16) < 0 || h > 127) {
                i = at;
                throw error("incomplete escape \\" + src.charAt(at + 1));
            }
        }
        long cp = Long.parseLong(hex, 16);
        if (cp > Character.MAX_CODE_POINT) {
            i = at;
            throw error("bad escape \\" + src.substring(at + 1, at + 2 + n));
        }
        i += n;
        literal((int) cp);
        return (int) cp;
    }

    /** {@code \0}, octal {@code \NNN}, or a group reference {@code \N} / {@code \NN}. */
    private int digits(int at, boolean inClass) {
        char d = src.charAt(at + 1);
        if (d == '0' || (isOctal(d) && i + 1 < src.length() && isOctal(src.charAt(i)) && isOctal(src.charAt(i + 1)))) {
            int j = d == '0' ? i : i + 2;
            int max = d == '0' ? i + 2 : j;
            while (j < max && j < src.length() && isOctal(src.charAt(j))) {
                j++;
            }
            int v = Integer.parseInt(src.substring(at + 1, j), 8);
            if (v > 0377) {
                i = at;
                throw error("octal escape value \\" + src.substring(at + 1, j) + " outside of range 0-0o377");
            }
            i = j;
            literal(v);
            return v;
        }
        if (inClass) {
            i = at;
            throw error("bad escape \\" + d);
        }
        int j = i;
        if (j < src.length() && isAsciiDigit(src.charAt(j))) {
            j++;
        }
        int g = Integer.parseInt(src.substring(at + 1, j));
        if (g > groups) {
            i = at + 1;
            throw error("invalid group reference " + g);
        }
        if (open.contains(g)) {
            i = at + 1;
            throw error("cannot refer to an open group");
        }
        reference(g);
        i = j;
        out.append("(?:\\").append(g).append(')');
        escLo = widths.get(g)[0];
        escHi = widths.get(g)[1];
        return -1;
    }

    private static boolean isOctal(char c) {
        return c >= '0' && c <= '7';
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
