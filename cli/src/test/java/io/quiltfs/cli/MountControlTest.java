package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How text written to a mount's {@code .quiltfs/ctl} splits into commands and words. */
class MountControlTest {
    @Test
    void aNewlineOutsideQuotesEndsACommand() {
        assertEquals(List.of(List.of("commit", "-m", "a b"), List.of("push")),
                MountControl.commands("commit -m 'a b'\npush\n"));
        assertEquals(List.of(List.of("commit", "-m", "two\nlines"), List.of("push", "--force")),
                MountControl.commands("commit -m \"two\nlines\"\n\n  push --force"));
        assertEquals(List.of(List.of("commit", "-m", "x", "--meta", "{\"k\": 1}")),
                MountControl.commands("commit -m x \\\n --meta '{\"k\": 1}'\n"), "a backslash joins the lines");
        assertEquals(List.of(List.of("commit", "-m", "say \"hi\" $x")),
                MountControl.commands("commit -m \"say \\\"hi\\\" \\$x\""));
        assertEquals(List.of(), MountControl.commands("\n \n"));
    }

    @Test
    void joinedWordsComeBackAsOneCommand() {
        List<String> words = List.of("commit", "-m", "it's \"two\"\nlines $HOME \\", "--meta", "{\"k\": [1, 2]}", "");
        assertEquals(List.of(words), MountControl.commands(MountControl.join(words)));
    }

    @Test
    void aRelativeMetaFileIsFound() {
        assertEquals("meta.json", MountControl.relativeFile(List.of("-m", "x", "--meta-file", "meta.json")));
        assertEquals("../m.json", MountControl.relativeFile(List.of("--meta-file=../m.json", "-m", "x")));
        assertEquals(null, MountControl.relativeFile(List.of("-m", "x", "--meta-file", "/abs/meta.json")));
        assertEquals(null, MountControl.relativeFile(List.of("-m", "--meta-file")), "a message, no file");
        assertEquals(null, MountControl.relativeFile(List.of("-m", "x", "--meta", "{}")));
    }

    @Test
    void anUnbalancedQuoteIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> MountControl.commands("commit -m 'oops\npush\n"));
    }
}
