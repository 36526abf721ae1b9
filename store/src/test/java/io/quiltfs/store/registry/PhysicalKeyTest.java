package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Physical keys are spelled as quilt3 spells them, and read back whatever their encoding. */
class PhysicalKeyTest {
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
