package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the S3 endpoint and region come from, and in which order: the option, system
 * properties, the environment, then the AWS profile (config and credentials files). The system
 * properties and environment are given to the resolution, never this JVM's.
 */
class S3SettingsTest {
    @TempDir
    Path tmp;
    Map<String, String> props;
    Map<String, String> env;

    @BeforeEach
    void setUp() {
        props = new HashMap<>();
        env = new HashMap<>();
        env.put("HOME", tmp.resolve("user").toString()); // no ~/.aws here unless a test writes one
    }

    S3Settings resolve(String option) {
        return S3Settings.fromEnvironment(option, props::get, env).withProfile(props::get, env, S3Registry.AwsProfile::new);
    }

    Path config(String text) throws IOException {
        Path p = tmp.resolve("config");
        Files.writeString(p, text);
        env.put("AWS_CONFIG_FILE", p.toString());
        return p;
    }

    /** A named profile that neither file has is said so, naming both files; one that exists, or none named, is not. */
    @Test
    void aNamedProfileThatNoFileHasIsNamed() throws IOException {
        Path cfg = config("[profile research]\nregion = eu-west-1\n");
        Path creds = tmp.resolve("creds");
        Files.writeString(creds, "[research]\naws_access_key_id = a\naws_secret_access_key = b\n");
        env.put("AWS_SHARED_CREDENTIALS_FILE", creds.toString());
        assertNull(new S3Registry.AwsProfile(props::get, env).missingNamedProfile(), "none named");
        env.put("AWS_PROFILE", "research");
        assertNull(new S3Registry.AwsProfile(props::get, env).missingNamedProfile());
        env.put("AWS_PROFILE", "reserach");
        assertEquals("the profile 'reserach' (AWS_PROFILE) is in neither " + cfg + " nor " + creds
                + " (check the name, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE)",
                new S3Registry.AwsProfile(props::get, env).missingNamedProfile());
    }

    @Test
    void endpointPrecedence() throws IOException {
        config("""
                [default]
                endpoint_url = http://profile:1
                region = eu-west-1
                """);
        assertEquals("http://profile:1", resolve(null).endpoint());
        env.put("AWS_ENDPOINT_URL", "http://env-global:2");
        assertEquals("http://env-global:2", resolve(null).endpoint());
        props.put("aws.endpointUrl", "http://prop-global:3");
        assertEquals("http://prop-global:3", resolve(null).endpoint());
        env.put("AWS_ENDPOINT_URL_S3", "http://env-s3:4");
        assertEquals("http://env-s3:4", resolve(null).endpoint());
        props.put("aws.endpointUrlS3", "http://prop-s3:5");
        assertEquals("http://prop-s3:5", resolve(null).endpoint());
        assertEquals("http://option:6", resolve("http://option:6").endpoint());
        assertEquals("http://option:6", resolve(" http://option:6 ").endpoint());
        // An empty option or variable counts as unset.
        props.clear();
        env.put("AWS_ENDPOINT_URL_S3", "");
        assertEquals("http://env-global:2", resolve("").endpoint());
    }

    @Test
    void theProfilesEndpointAndRegion() throws IOException {
        config("""
                [default]
                region = eu-west-1
                endpoint_url = http://default-profile:9000

                [profile minio]
                region = eu-central-2
                services = local-s3

                [services local-s3]
                s3 =
                  endpoint_url = http://services-section:9000
                """);
        S3Settings d = resolve(null);
        assertEquals("http://default-profile:9000", d.endpoint());
        assertEquals("eu-west-1", d.region());

        env.put("AWS_PROFILE", "minio");
        S3Settings m = resolve(null);
        assertEquals("http://services-section:9000", m.endpoint(), "the services section's s3 endpoint");
        assertEquals("eu-central-2", m.region());

        props.put("aws.profile", "default"); // the system property names the profile before AWS_PROFILE
        assertEquals("eu-west-1", resolve(null).region());

        env.put("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        assertNull(resolve(null).endpoint());
        assertEquals("http://option:1", resolve("http://option:1").endpoint());
    }

    @Test
    void theProfilesRegionIsUsedWithAnEndpoint() throws IOException {
        config("[default]\nregion = eu-west-1\n");
        S3Settings s = resolve("http://127.0.0.1:9000");
        assertEquals("http://127.0.0.1:9000", s.endpoint());
        assertEquals("eu-west-1", s.region(), "not us-east-1: the profile says");

        env.put("AWS_DEFAULT_REGION", "ap-south-1");
        assertEquals("ap-south-1", resolve(null).region());
        env.put("AWS_REGION", "us-west-2");
        assertEquals("us-west-2", resolve(null).region());
        props.put("aws.region", "ca-central-1");
        assertEquals("ca-central-1", resolve(null).region());
    }

    @Test
    void theCredentialsFileCountsAndWinsOverTheConfigFile() throws IOException {
        config("[default]\nregion = eu-west-1\n");
        Path creds = tmp.resolve("credentials");
        Files.writeString(creds, "[default]\naws_access_key_id = a\naws_secret_access_key = b\nregion = eu-north-1\n");
        props.put("aws.sharedCredentialsFile", creds.toString());
        assertEquals("eu-north-1", resolve(null).region());
    }

    @Test
    void theProfileFilesDefaultToTheHomesAwsFolder() throws IOException {
        Path aws = Files.createDirectories(tmp.resolve("user/.aws"));
        Files.writeString(aws.resolve("config"), "[default]\nendpoint_url = http://home-config:1\n");
        assertEquals("http://home-config:1", resolve(null).endpoint());
        // A file named with ~ is in the home too.
        Files.writeString(aws.resolve("other"), "[default]\nregion = sa-east-1\n");
        env.put("AWS_CONFIG_FILE", "~/.aws/other");
        assertEquals("sa-east-1", resolve(null).region());
    }

    @Test
    void noProfileIsReadWhenEverythingIsSet() throws IOException {
        config("this is [not an ini file");
        S3Settings set = new S3Settings("http://x:1", "us-east-1");
        assertSame(set, set.withProfile(props::get, env, S3Registry.AwsProfile::new));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolve(null));
        assertTrue(e.getMessage().startsWith("cannot read the AWS config file " + tmp.resolve("config")), e.getMessage());
    }

    @Test
    void nothingSetIsNothing() {
        S3Settings s = resolve(null);
        assertNull(s.endpoint());
        assertNull(s.region());
    }
}
