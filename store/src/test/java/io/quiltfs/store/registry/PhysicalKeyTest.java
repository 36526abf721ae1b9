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

    @Test
    void keysAndVersionsAreEncodedAsQuilt3Does() {
        // quilt3: quote('/' + key) for the key, urlencode({'versionId': id}) for the version.
        PhysicalKey k = PhysicalKey.ofS3("b", "ns/p/a b+c%d?e#f&g=h/caf\u00e9 \ud83d\ude00", "3/L4kq+rmS=x");
        String s = "s3://b/ns/p/a%20b%2Bc%25d%3Fe%23f%26g%3Dh/caf%C3%A9%20%F0%9F%98%80?versionId=3%2FL4kq%2BrmS%3Dx";
        assertEquals(s, k.toString());
        assertEquals(k, PhysicalKey.parse(s));
        assertEquals("3/L4kq+rmS=x", PhysicalKey.parse("s3://b/k?versionId=3/L4kq%2BrmS%3Dx").versionId());
        // quilt3 reads an empty versionId as none; sent to S3, it was refused (HTTP 400, or 501 from S3Proxy).
        assertEquals(PhysicalKey.ofS3("b", "k", null), PhysicalKey.parse("s3://b/k?versionId="));
    }
}
