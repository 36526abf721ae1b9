package io.quiltfs.store.registry;

import java.util.Map;

/**
 * How to reach S3: an explicit endpoint ({@code --endpoint}) or the standard settings, the SDK's
 * system properties ({@code aws.endpointUrlS3}, {@code aws.endpointUrl}, {@code aws.region}) before
 * the environment ({@code AWS_ENDPOINT_URL_S3}, {@code AWS_ENDPOINT_URL}, {@code AWS_REGION}), as
 * the SDK orders them; credentials always come from the SDK's default chain and never pass
 * through here. {@code home} (may be null) keeps what registries were confirmed to hold.
 */
public record S3Settings(String endpoint, String region, io.quiltfs.store.state.Home home) {
    /** Settings without a home: nothing is remembered between processes. */
    public S3Settings(String endpoint, String region) {
        this(endpoint, region, null);
    }

    /** The same settings, remembering in {@code home} what registries were confirmed to hold. */
    public S3Settings withHome(io.quiltfs.store.state.Home home) {
        return new S3Settings(endpoint, region, home);
    }

    public static S3Settings fromEnvironment(String endpointOption, Map<String, String> env) {
        String endpoint = endpointOption;
        if (endpoint == null || endpoint.isEmpty()) {
            endpoint = first(System.getProperty("aws.endpointUrlS3"), System.getProperty("aws.endpointUrl"),
                    env.get("AWS_ENDPOINT_URL_S3"), env.get("AWS_ENDPOINT_URL"));
        }
        String region = first(System.getProperty("aws.region"), env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION"));
        return new S3Settings(endpoint == null || endpoint.isEmpty() ? null : endpoint, region);
    }

    private static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isEmpty()) {
                return v;
            }
        }
        return null;
    }

    public static S3Settings defaults() {
        return fromEnvironment(null, System.getenv());
    }
}
