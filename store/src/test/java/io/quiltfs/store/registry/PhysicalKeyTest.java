package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Physical keys spelled as quilt3 8.0.0's {@code PhysicalKey.__str__} spells them, and read back. */
class PhysicalKeyTest {
    @Test
    void versionIdIsUrlencodedAsQuilt3Does() {
        PhysicalKey k = PhysicalKey.ofS3("b", "a b/c+d.csv", "v/1+2 3~_.-=&é");
        // str(quilt3.util.PhysicalKey('b', 'a b/c+d.csv', 'v/1+2 3~_.-=&é')), quilt3 8.0.0
        String quilt3 = "s3://b/a%20b/c%2Bd.csv?versionId=v%2F1%2B2+3~_.-%3D%26%C3%A9";
        assertEquals(quilt3, k.toString());
        assertEquals(k, PhysicalKey.parse(quilt3));
    }

    @Test
    void bothSpellingsOfAVersionIdParse() {
        // What quiltfs wrote before (quote with '/' kept) and what quilt3 writes read the same.
        assertEquals("v/1+2", PhysicalKey.parse("s3://b/k?versionId=v/1%2B2").versionId());
        assertEquals("v/1+2", PhysicalKey.parse("s3://b/k?versionId=v%2F1%2B2").versionId());
        // parse_qs reads '+' as a space.
        assertEquals("v 1", PhysicalKey.parse("s3://b/k?versionId=v+1").versionId());
        assertEquals("s3://b/k?versionId=v%2F1%2B2", PhysicalKey.parse("s3://b/k?versionId=v/1%2B2").toString());
    }
}
