package io.quiltfs.store.registry;

import java.util.Map;

/**
 * How to reach S3: an explicit endpoint ({@code --endpoint}) or the standard environment
 * ({@code AWS_ENDPOINT_URL_S3}, {@code AWS_ENDPOINT_URL}, {@code AWS_REGION}); credentials always
 * come from the SDK's default chain and never pass through here.
 */
public record S3Settings(String endpoint, String region) {
    public static S3Settings fromEnvironment(String endpointOption, Map<String, String> env) {
        String endpoint = endpointOption;
        if (endpoint == null || endpoint.isEmpty()) {
            endpoint = env.getOrDefault("AWS_ENDPOINT_URL_S3", env.get("AWS_ENDPOINT_URL"));
        }
        String region = env.getOrDefault("AWS_REGION", env.get("AWS_DEFAULT_REGION"));
        return new S3Settings(endpoint == null || endpoint.isEmpty() ? null : endpoint, region);
    }

    public static S3Settings defaults() {
        return fromEnvironment(null, System.getenv());
    }
}
