package io.quiltfs.store.registry;

import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * How to reach S3: the endpoint and the signing region, from the standard places in the order
 * the SDK reads them, so that quiltfs knows every endpoint the SDK would use (and addresses its
 * buckets by path). Credentials always come from the SDK's default chain and never pass through
 * here. {@code home} (may be null) keeps what registries were confirmed to hold.
 *
 * <p>Endpoint: {@code --endpoint}; else {@code aws.endpointUrlS3}, {@code AWS_ENDPOINT_URL_S3},
 * {@code aws.endpointUrl}, {@code AWS_ENDPOINT_URL}; else, when an S3 client is made
 * ({@link #withProfile}, read by {@link S3Registry}), the profile's {@code services} section ({@code s3 = endpoint_url = ...})
 * and then its {@code endpoint_url}. None but {@code --endpoint} when
 * {@code AWS_IGNORE_CONFIGURED_ENDPOINT_URLS} is true, and none from the profile when its
 * {@code ignore_configured_endpoint_urls} is. Region: {@code aws.region}, {@code AWS_REGION},
 * {@code AWS_DEFAULT_REGION}, then the profile's {@code region}. The profile is
 * {@code aws.profile}, {@code AWS_PROFILE} or {@code default}, in {@code aws.configFile} /
 * {@code AWS_CONFIG_FILE} (else {@code ~/.aws/config}) and {@code aws.sharedCredentialsFile} /
 * {@code AWS_SHARED_CREDENTIALS_FILE} (else {@code ~/.aws/credentials}). The profile is read only
 * when an S3 registry is opened: parsing it costs a local command a tenth of a second.
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

    /**
     * The settings of this process: {@code endpointOption} (may be null), the system properties
     * and {@code env}; what they leave open comes from the profile in {@link #withProfile}.
     */
    public static S3Settings fromEnvironment(String endpointOption, Map<String, String> env) {
        return fromEnvironment(endpointOption, System::getProperty, env);
    }

    public static S3Settings defaults() {
        return fromEnvironment(null, System.getenv());
    }

    /** {@link #fromEnvironment} with the system properties given ({@code property}); for tests. */
    static S3Settings fromEnvironment(String endpointOption, Function<String, String> property, Map<String, String> env) {
        String endpoint = first(endpointOption);
        if (endpoint == null && !"true".equalsIgnoreCase(first(property.apply("aws.ignoreConfiguredEndpointUrls"),
                env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")))) {
            endpoint = first(property.apply("aws.endpointUrlS3"), env.get("AWS_ENDPOINT_URL_S3"),
                    property.apply("aws.endpointUrl"), env.get("AWS_ENDPOINT_URL"));
        }
        String region = first(property.apply("aws.region"), env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION"));
        return new S3Settings(endpoint, region);
    }

    /**
     * These settings completed from the AWS profile that {@code profiles} reads for the system
     * properties and environment given (what S3 clients are made with).
     */
    S3Settings withProfile(Function<String, String> property, Map<String, String> env,
                           BiFunction<Function<String, String>, Map<String, String>, ProfileSource> profiles) {
        if (endpoint != null && region != null) {
            return this;
        }
        return withProfile(property, env, profiles.apply(property, env));
    }

    private S3Settings withProfile(Function<String, String> property, Map<String, String> env,
                                   ProfileSource profiles) {
        String e = endpoint;
        if (e == null && !ignoreConfiguredEndpoints(profiles, property, env)) {
            e = first(profiles.servicesEndpoint(), profiles.get("endpoint_url"));
        }
        String r = region != null ? region : profiles.get("region");
        return new S3Settings(e, r, home);
    }

    private static boolean ignoreConfiguredEndpoints(ProfileSource profiles, Function<String, String> property,
                                                     Map<String, String> env) {
        String v = first(property.apply("aws.ignoreConfiguredEndpointUrls"),
                env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), profiles.get("ignore_configured_endpoint_urls"));
        return "true".equalsIgnoreCase(v);
    }

    static String first(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.strip();
            }
        }
        return null;
    }

    /** The chosen AWS profile, read on first use (by {@link S3Registry}, the class that uses the SDK). */
    interface ProfileSource {
        /** A property of the chosen profile, or null. */
        String get(String name);

        /** {@code endpoint_url} for S3 in the {@code services} section the profile names, or null. */
        String servicesEndpoint();
    }
}
