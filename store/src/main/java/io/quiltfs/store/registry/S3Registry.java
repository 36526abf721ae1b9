package io.quiltfs.store.registry;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.ChunkSize;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Sha256;
import io.quiltfs.store.manifest.LogicalKey;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.manifest.TopHash;
import io.quiltfs.store.state.Home;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Base64;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.EncodingType;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A registry in an S3 bucket ({@code s3://bucket}), in AWS or any S3-compatible store, laid out
 * exactly like a local registry; the one class that imports the AWS SDK (the AWS profile that
 * {@link S3Settings} completes itself from is read here too, {@link AwsProfile}). Hot paths read by key;
 * only browsing, revision and tag lists and hash-prefix lookup list (with the delimiter API).
 * The client is the SDK's synchronous one on the Apache 5 HTTP client: measured against the
 * CRT-based and Netty async clients, it was the fastest for small PUTs, ranged reads and
 * multipart uploads (bench/RESULTS.md, "S3 client choice").
 *
 * <p>Data objects are written once: a single PUT for a file of at most one chunk of the
 * {@code sha2-256-chunked} hash (8 MiB), else a multipart upload whose parts are its chunks (8 MiB,
 * doubling past 10,000 parts, S3's own part limit): either way each request's SHA-256 is a digest
 * the hashing already computed, and S3's own checksum of the object is the row's value. An upload that fails half-way is aborted, so
 * no partial object ever becomes visible. Content already in the bucket is never uploaded again:
 * a push of many objects lists the package's keys once (with their ETags; one of a few objects
 * into a large package asks about each instead, see {@link #placing}); a key that is absent gets one
 * conditional PUT ({@code If-None-Match: *}); a key that is present is reused without a request
 * when the home's {@link ConfirmedObjects} record proved it before under the same ETag, or (an
 * object smaller than {@link Tuning#md5ProofLimit}, 16 MiB, in an unversioned bucket) when its
 * listed ETag is the MD5 of the file; else a HEAD, with S3's checksums, proves it ({@link #proves}): by the checksum every
 * object quiltfs writes carries in {@code x-amz-meta-quiltfs-checksum}, else, for objects other
 * clients stored (quilt3, the AWS CLI), by S3's own checksum of the row's type (the composite
 * SHA-256 of a multipart upload whose parts are the chunks is the {@code sha2-256-chunked} value),
 * else by the ETag against the file (MD5, or the multipart {@code md5-N} of chunk-sized parts).
 * Only equal digests and sizes prove; whatever cannot be proved is uploaded. On a versioned
 * bucket the version id S3 returns (a HEAD's too) goes into the physical key; on an unversioned
 * one, different content at {@code NS/NAME/KEY} is never overwritten (an earlier revision may
 * point at it) and the new content goes to the content-addressed {@code .quilt/objects/NAME}
 * instead. A push needs no permission to ask whether
 * the bucket is versioned: when refused, writes tell (a version id or none), and until they do
 * changed content goes to its own key and only a HEAD proves an object.
 *
 * <p>{@code latest} moves with S3 conditional writes ({@code If-None-Match: *} when absent,
 * {@code If-Match} on its ETag otherwise). A server that does not implement them answers 501;
 * then the move falls back to read-compare-write, which leaves a window of one round trip in
 * which a concurrent push can be lost (logged once). Some servers (S3Proxy) accept the
 * conditions but check them and store in two steps, so two writers can both be told yes: every
 * move reads the pointer back, and a writer whose value was already replaced is refused.
 *
 * <p>Faults: the SDK retries throttling, 5xx and dropped connections with jittered exponential
 * backoff; reads resume where a dropped or stalled body stopped ({@code If-Match} on the ETag, so
 * a changed object cannot be spliced in). Every request has a socket timeout and an attempt
 * timeout. Errors name the bucket and key, never a credential. Thread-safe: the SDK client is;
 * the rest is immutable or concurrent.
 */
public final class S3Registry implements Registry {
    private static final Logger log = LoggerFactory.getLogger(S3Registry.class);
    /** User metadata holding {@code TYPE:VALUE} of the object's checksum (as a manifest row). */
    static final String CHECKSUM_META = "quiltfs-checksum";
    /** Ranged reads split a large object into pieces of this size. */
    static final long RANGE = 8L << 20;
    private static final int COPY_BUFFER = 256 << 10;
    /** The largest file with a {@code SHA256} row stored in a single PUT (its row is the body's digest). */
    static final long SHA256_PUT_MAX = 16L << 20;

    /**
     * Timeouts, attempts and parallelism; tests shorten them. {@code minRange} is the smallest
     * range a parallel download asks for; a listed object smaller than {@code md5ProofLimit} is
     * proved by reading the file for its MD5 (cheaper than a request) rather than by a HEAD.
     */
    record Tuning(Duration attemptTimeout, Duration socketTimeout, Duration connectTimeout, int maxAttempts,
                  int streamAttempts, int parallelism, long md5ProofLimit, long minRange) {
        static final Tuning DEFAULT = new Tuning(Duration.ofMinutes(5), Duration.ofSeconds(30),
                Duration.ofSeconds(10), 5, 8, 4, 16L << 20, 32L << 20);
    }

    private final String bucket;
    private final String where;
    private final String regionName;
    private final Tuning tuning;
    private final S3Client s3;
    private final ExecutorService transfers;
    private final Map<String, PhysicalKey> confirmed = new ConcurrentHashMap<>();
    /** Buckets known to exist (see {@link #requireBucket}). */
    private final java.util.Set<String> buckets = ConcurrentHashMap.newKeySet();
    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private static final int COMPENSATED = 32;
    /** Past this many pages of 1,000 keys, a push HEADs each object instead of listing. */
    private static final int MAX_LISTING_PAGES = 50;
    private final Map<String, Optional<Map<String, Listed>>> listings = new ConcurrentHashMap<>();
    /**
     * A push lists its package only when it has at least this many objects to place per page
     * the listing would take: fewer are asked about one by one (see {@link #placing}).
     */
    private static final int PLACES_PER_PAGE = 4;
    /** Without a listing, objects up to this size are sent with a conditional PUT without a HEAD first. */
    private static final long ASK_FIRST = 1 << 20;
    /** Packages (their prefixes) whose pushes ask about each object instead of listing. */
    private final java.util.Set<String> unlisted = ConcurrentHashMap.newKeySet();
    private final ConfirmedObjects record;
    private final UploadJournal uploads;
    /** Whether this instance has aborted the uploads that killed processes left open. */
    private final java.util.concurrent.atomic.AtomicBoolean orphansAborted = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.Semaphore compensated = new java.util.concurrent.Semaphore(COMPENSATED);
    /** Whether the bucket keeps versions; null: not known (yet). */
    private volatile Boolean versioned;
    /** The credentials may not ask (no s3:GetBucketVersioning): learnt from what writes return. */
    private volatile boolean versioningDenied;
    private volatile boolean conditionalWrites = true;
    /** Tests only: runs between a compare-and-set's write and its read-back (another writer landing there). */
    volatile Runnable afterCompareAndSetWrite;

    /** Opens {@code s3://bucket} with the standard settings; no request is made yet. */
    public static S3Registry open(String bucket, S3Settings settings) {
        return new S3Registry(bucket, settings, Tuning.DEFAULT, null);
    }

    /** {@code keys} ({access key, secret key}) replaces the default chain; for tests only. */
    S3Registry(String bucket, S3Settings settings, Tuning tuning, String[] keys) {
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new IllegalArgumentException("invalid bucket name '" + bucket
                    + "': expected 3 to 63 lowercase letters, digits, '.' or '-'");
        }
        this.bucket = bucket;
        this.tuning = tuning;
        // What the environment leaves open comes from the profile, as the SDK would take it: an
        // endpoint the SDK would use unseen would be addressed by virtual host and signed for
        // the wrong region.
        settings = settings.withProfile(System::getProperty, System.getenv(), AwsProfile::new);
        this.record = new ConfirmedObjects(settings.home() == null ? null : settings.home().registryRecord(uri()));
        this.uploads = new UploadJournal(settings.home() == null ? null : settings.home().registryUploads(uri()));
        String endpoint = settings.endpoint();
        Region region;
        if (settings.region() != null) {
            region = Region.of(settings.region());
        } else if (endpoint != null) {
            region = Region.US_EAST_1; // S3-compatible servers mostly ignore it, but SigV4 needs one
        } else {
            region = defaultRegion();
        }
        this.regionName = region.id();
        this.where = endpoint != null ? endpoint : "AWS S3 (" + region.id() + ")";
        S3ClientBuilder b = S3Client.builder()
                .region(region)
                .credentialsProvider(keys == null ? DefaultCredentialsProvider.builder().build()
                        : StaticCredentialsProvider.create(AwsBasicCredentials.create(keys[0], keys[1])))
                .httpClientBuilder(Apache5HttpClient.builder()
                        .socketTimeout(tuning.socketTimeout())
                        .connectionTimeout(tuning.connectTimeout())
                        .maxConnections(Math.max(64, tuning.parallelism() * 4)))
                // Uploads of data, manifests and pointers carry their SHA-256 (x-amz-checksum-sha256,
                // see BodyPinningSigner); anything else gets the SDK's CRC32, so that S3 rejects a
                // body damaged in transit. Downloads are verified against the manifest row anyway,
                // so the SDK need not check them too.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_SUPPORTED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .putAuthScheme(new BodyPinningAuthScheme())
                .overrideConfiguration(o -> o
                        .retryStrategy(r -> r.maxAttempts(tuning.maxAttempts()))
                        .apiCallAttemptTimeout(tuning.attemptTimeout())
                        .addExecutionInterceptor(new RequestCounter()));
        if (endpoint != null) {
            URI uri;
            try {
                uri = URI.create(endpoint);
            } catch (IllegalArgumentException e) {
                uri = null;
            }
            if (uri == null || uri.getHost() == null || uri.getPort() > 65535
                    || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
                throw new IllegalArgumentException("invalid S3 endpoint '" + endpoint
                        + "': expected http://host[:port] or https://host[:port]");
            }
            // Custom endpoints rarely resolve virtual-host bucket names: address buckets by path.
            b.endpointOverride(uri).forcePathStyle(true);
        } else {
            b.crossRegionAccessEnabled(true);
        }
        this.s3 = b.build();
        AtomicInteger n = new AtomicInteger();
        this.transfers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "quiltfs-s3-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    private static Region defaultRegion() {
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        } catch (SdkClientException e) {
            return Region.US_EAST_1; // cross-region access finds the bucket's real region
        }
    }

    public String bucket() {
        return bucket;
    }

    @Override
    public String uri() {
        return "s3://" + bucket;
    }

    /** Whether the server honoured conditional writes so far (false after a 501). */
    boolean conditionalWrites() {
        return conditionalWrites;
    }

    /** HTTP requests sent so far (retries included), by SDK operation name; for tests and benches. */
    public Map<String, Long> requestCounts() {
        Map<String, Long> out = new TreeMap<>();
        requests.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Counts each HTTP attempt by operation name. */
    private final class RequestCounter implements ExecutionInterceptor {
        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            String op = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
            requests.computeIfAbsent(op == null ? "?" : op, k -> new LongAdder()).increment();
        }
    }

    /** SigV4 as the SDK does it, with {@link BodyPinningSigner} as the signer. */
    private static final class BodyPinningAuthScheme implements AuthScheme<AwsCredentialsIdentity> {
        private final BodyPinningSigner signer = new BodyPinningSigner();

        @Override
        public String schemeId() {
            return AwsV4AuthScheme.SCHEME_ID;
        }

        @Override
        public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
            return providers.identityProvider(AwsCredentialsIdentity.class);
        }

        @Override
        public HttpSigner<AwsCredentialsIdentity> signer() {
            return signer;
        }
    }

    /**
     * The SDK's SigV4 signer, except that a request whose body is pinned by an
     * {@code x-amz-checksum-sha256} header is signed with {@code UNSIGNED-PAYLOAD} on plain http
     * too (as the SDK already does on https): the header is signed and S3 rejects a body that does
     * not match it, so the signature covers the content as much as a signed payload would, but
     * the body is not hashed a second time. Over http the SDK would otherwise hash every upload
     * body for the signature even though quiltfs already has its SHA-256 (the chunks of
     * {@code sha2-256-chunked} are S3's parts); against a local S3-compatible server that was half
     * of the CPU of a push. Every other request is signed by the SDK's signer unchanged.
     */
    private static final class BodyPinningSigner implements HttpSigner<AwsCredentialsIdentity> {
        private final AwsV4HttpSigner v4 = AwsV4HttpSigner.create();

        @Override
        public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
            Optional<ContentStreamProvider> body = request.payload();
            if (body.isEmpty() || "https".equals(request.request().protocol())
                    || request.request().firstMatchingHeader(CHECKSUM_SHA256).isEmpty()) {
                return v4.sign(request);
            }
            // Signed without the body: the signer then signs UNSIGNED-PAYLOAD (and the pinning
            // header with the other headers); the body goes out as it is.
            SignedRequest headers = v4.sign(request.copy(b -> b.payload(null)
                    .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                    .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, false)));
            return SignedRequest.builder().request(headers.request()).payload(body.get()).build();
        }

        @Override
        public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
            return v4.signAsync(request); // the registry's client is synchronous
        }
    }

    private static final String CHECKSUM_SHA256 = "x-amz-checksum-sha256";

    private static String base64(byte[] digest) {
        return Base64.getEncoder().encodeToString(digest);
    }

    // ---------------------------------------------------------------- layout

    private static String manifestKey(String topHash) {
        LocalRegistry.requireHash(topHash);
        return ".quilt/packages/" + topHash;
    }

    private static String pointerDir(PackageName pkg) {
        return ".quilt/named_packages/" + pkg.namespace() + "/" + pkg.name() + "/";
    }

    private static String pointerKey(PackageName pkg, String pointer) {
        if (!pointer.equals("latest") && Revision.timestampOf(pointer) < 0) {
            throw new IllegalArgumentException("invalid pointer name '" + pointer + "': expected latest or a timestamp");
        }
        return pointerDir(pkg) + pointer;
    }

    private static String tagDir(PackageName pkg) {
        return ".quilt/quiltfs/tags/" + pkg.namespace() + "/" + pkg.name() + "/";
    }

    private String url(String key) {
        return "s3://" + bucket + "/" + key;
    }

    // ---------------------------------------------------------------- listing

    @Override
    public List<PackageName> listPackages() throws IOException {
        List<PackageName> out = new ArrayList<>();
        for (String ns : childFolders(".quilt/named_packages/")) {
            for (String name : childFolders(".quilt/named_packages/" + ns + "/")) {
                if (PackageName.isValid(ns + "/" + name)) {
                    out.add(PackageName.parse(ns + "/" + name));
                }
            }
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    /** The names of the "folders" right under {@code prefix} (delimiter listing). */
    private List<String> childFolders(String prefix) throws IOException {
        List<String> out = new ArrayList<>();
        listLevel(prefix, page -> {
            for (CommonPrefix cp : page.commonPrefixes()) {
                String p = cp.prefix().substring(prefix.length());
                if (p.endsWith("/") && p.length() > 1) {
                    out.add(p.substring(0, p.length() - 1));
                }
            }
        });
        return out;
    }

    /** The keys right under {@code prefix}, then the "folders" there ending in '/', without the prefix. */
    private List<String> childNamesAndFolders(String prefix) throws IOException {
        List<String> out = new ArrayList<>();
        List<String> folders = new ArrayList<>();
        listLevel(prefix, page -> {
            for (S3Object o : page.contents()) {
                out.add(o.key().substring(prefix.length()));
            }
            for (CommonPrefix cp : page.commonPrefixes()) {
                folders.add(cp.prefix().substring(prefix.length()));
            }
        });
        out.addAll(folders);
        return out;
    }

    /** The keys right under {@code prefix} (no deeper), without the prefix. */
    private List<String> childNames(String prefix) throws IOException {
        List<String> out = new ArrayList<>();
        listLevel(prefix, page -> {
            for (S3Object o : page.contents()) {
                out.add(o.key().substring(prefix.length()));
            }
        });
        return out;
    }

    /**
     * Every page of a delimiter listing of one level under {@code prefix}. Listings ask for
     * URL-encoded keys (the SDK decodes them): a key may hold characters that XML 1.0 cannot
     * carry (U+0001) or normalizes (a carriage return read back as a line feed), and one such key
     * must not make every listing of its folder fail.
     */
    private void listLevel(String prefix, java.util.function.Consumer<ListObjectsV2Response> pages) throws IOException {
        String token = null;
        do {
            String t = token;
            ListObjectsV2Response page = call(url(prefix), () -> s3.listObjectsV2(r -> r.bucket(bucket)
                    .prefix(prefix).delimiter("/").continuationToken(t).encodingType(EncodingType.URL)));
            pages.accept(page);
            token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
        } while (token != null);
    }

    @Override
    public List<Revision> revisions(PackageName pkg, java.util.function.Consumer<RegistryException.BadPointer> bad)
            throws IOException {
        List<String> names = new ArrayList<>();
        for (String n : childNamesAndFolders(pointerDir(pkg))) {
            if (n.endsWith("/")) {
                if (Revision.timestampOf(n.substring(0, n.length() - 1)) >= 0) {
                    bad.accept(new RegistryException.BadPointer(uri(), pointerDir(pkg) + n,
                            "is a folder (keys below it), not a pointer"));
                }
            } else if (Revision.timestampOf(n) >= 0) {
                names.add(n);
            } else if (!n.equals("latest")) {
                bad.accept(Pointers.misnamed(uri(), pointerDir(pkg) + n));
            }
        }
        String[] hashes = new String[names.size()];
        RegistryException.BadPointer[] bads = new RegistryException.BadPointer[names.size()];
        inParallel(names.size(), i -> {
            try {
                hashes[i] = readPointerKey(pointerDir(pkg) + names.get(i));
            } catch (RegistryException.BadPointer e) {
                bads[i] = e;
            }
        });
        List<Revision> out = new ArrayList<>();
        for (int i = 0; i < hashes.length; i++) {
            if (bads[i] != null) {
                bad.accept(bads[i]);
            } else if (hashes[i] != null) {
                out.add(new Revision(Long.parseLong(names.get(i)), hashes[i]));
            }
        }
        out.sort(Comparator.comparingLong(Revision::timestamp).reversed());
        return out;
    }

    @Override
    public List<String> manifestsStartingWith(String prefix) throws IOException {
        List<String> found = new ArrayList<>();
        for (String n : childNames(".quilt/packages/" + prefix)) {
            String h = prefix + n;
            if (TopHash.isTopHash(h)) {
                found.add(h);
            }
        }
        return found;
    }

    // ---------------------------------------------------------------- pointers, manifests, tags

    @Override
    public String latest(PackageName pkg) throws IOException {
        return readPointer(pkg, "latest");
    }

    @Override
    public String readPointer(PackageName pkg, String pointer) throws IOException {
        return readPointerKey(pointerKey(pkg, pointer));
    }

    private String readPointerKey(String key) throws IOException {
        Small s = getSmall(key, POINTER);
        return s == null ? null : pointerValue(key, s.bytes);
    }

    private String pointerValue(String key, byte[] bytes) throws RegistryException {
        return Pointers.value(bytes, bytes.length, uri(), key);
    }

    @Override
    public byte[] readManifestBytes(String topHash) throws IOException {
        String key = manifestKey(topHash);
        Small s = getSmall(key, (in, length) -> ManifestReader.readBytes(in, length, url(key)));
        if (s == null) {
            throw new RegistryException.NotFound("no manifest " + topHash + " in " + uri());
        }
        return s.bytes;
    }

    /** Most headers fit in one small ranged GET, whose body is read whole (the connection is kept). */
    private static final int HEADER_RANGE = 64 * 1024;

    @Override
    public com.fasterxml.jackson.databind.node.ObjectNode readManifestHeader(String topHash) throws IOException {
        String key = manifestKey(topHash);
        // (At most the range, also from a server that ignores Range and sends the whole manifest.)
        Small s = getSmall(key, "bytes=0-" + (HEADER_RANGE - 1), (in, length) -> in.readNBytes(HEADER_RANGE));
        if (s == null) {
            throw new RegistryException.NotFound("no manifest " + topHash + " in " + uri());
        }
        byte[] start = ManifestReader.headerBytes(new java.io.ByteArrayInputStream(s.bytes));
        if (s.bytes.length == HEADER_RANGE && !ManifestReader.holdsHeaderLine(start)) {
            // A header longer than the range (a large user_meta), or after a range of blank lines:
            // read on to its end, dropping the rest.
            s = getSmall(key, null, (in, length) -> ManifestReader.headerBytes(in));
            if (s == null) {
                throw new RegistryException.NotFound("no manifest " + topHash + " in " + uri());
            }
            start = s.bytes;
        }
        return ManifestReader.readHeader(start, url(key));
    }

    @Override
    public boolean hasManifest(String topHash) throws IOException {
        return head(manifestKey(topHash), null) != null;
    }

    @Override
    public long manifestTime(String topHash) throws IOException {
        HeadObjectResponse h = head(manifestKey(topHash), null);
        return h == null ? -1 : h.lastModified() == null ? -1 : h.lastModified().getEpochSecond();
    }

    @Override
    public void writeManifestBytes(String topHash, byte[] bytes) throws IOException {
        String key = manifestKey(topHash);
        if (head(key, null) == null) {
            putBytes(key, bytes, null);
        }
    }

    @Override
    public void writePointer(PackageName pkg, String pointer, String topHash) throws IOException {
        LocalRegistry.requireHash(topHash);
        putBytes(pointerKey(pkg, pointer), topHash.getBytes(StandardCharsets.US_ASCII), null);
    }

    @Override
    public boolean createPointer(PackageName pkg, String pointer, String topHash) throws IOException {
        LocalRegistry.requireHash(topHash);
        String key = pointerKey(pkg, pointer);
        try {
            putBytes(key, topHash.getBytes(StandardCharsets.US_ASCII), Condition.ABSENT);
            return true;
        } catch (ConditionFailed e) {
            return false;
        }
    }

    @Override
    public void deletePointer(PackageName pkg, String pointer) throws IOException {
        String key = pointerKey(pkg, pointer);
        call(url(key), () -> s3.deleteObject(r -> r.bucket(bucket).key(key)));
    }

    @Override
    public String compareAndSetLatest(PackageName pkg, String expected, String topHash) throws IOException {
        return compareAndSet(pointerKey(pkg, "latest"), "latest of " + pkg, expected, topHash);
    }

    @Override
    public String compareAndSetTag(PackageName pkg, String tag, String expected, String topHash) throws IOException {
        Tags.require(tag);
        return compareAndSet(tagDir(pkg) + tag, "tag '" + tag + "' of " + pkg, expected, topHash);
    }

    /**
     * Writes {@code topHash} at the pointer {@code key} only if it holds {@code expected} (null:
     * absent), with a conditional PUT where the store has them; {@code what} names the pointer in
     * messages. Returns null when written, else what the pointer holds now ("" for nothing).
     */
    private String compareAndSet(String key, String what, String expected, String topHash) throws IOException {
        LocalRegistry.requireHash(topHash);
        byte[] value = topHash.getBytes(StandardCharsets.US_ASCII);
        for (int attempt = 0; ; attempt++) {
            Small cur = getSmall(key, POINTER);
            String now = cur == null ? null : pointerValue(key, cur.bytes);
            if (!Objects.equals(now, expected)) {
                return now == null ? "" : now;
            }
            if (!conditionalWrites) {
                putBytes(key, value, null);
                return readBack(key, topHash);
            }
            try {
                putBytes(key, value, cur == null ? Condition.ABSENT : new Condition(cur.etag));
                return readBack(key, topHash);
            } catch (ConditionFailed e) {
                // A retried PUT whose first attempt succeeded but whose answer was lost finds its
                // own value there: that is a success, not a conflict.
                Small after = getSmall(key, POINTER);
                if (after != null && topHash.equals(pointerValue(key, after.bytes))) {
                    return null;
                }
                if (attempt >= 10) {
                    throw new RegistryException("could not move " + what + " in " + uri()
                            + ": it keeps changing under concurrent writers (try again)");
                }
                // Someone moved it between our read and our write: read it again.
            } catch (ConditionsUnsupported e) {
                conditionalWrites = false;
                log.warn("{} does not support conditional writes; moving {} by read-compare-write", where, what);
            }
        }
    }

    /**
     * After a compare-and-set's write: null when the pointer holds what we wrote, else what it
     * holds ("" for nothing). Some servers (S3Proxy) check a write's condition and then store the
     * object in a second step, so two writers expecting the same value can both be told yes; the
     * one whose object was replaced finds out here, and is refused rather than told it won. (It
     * narrows that window to the time between our write and this read; it cannot close it: only
     * a server that checks and writes in one step, as AWS S3 does, can.)
     */
    private String readBack(String key, String topHash) throws IOException {
        Runnable hook = afterCompareAndSetWrite;
        if (hook != null) {
            hook.run();
        }
        Small after = getSmall(key, POINTER);
        String now = after == null ? null : pointerValue(key, after.bytes);
        return topHash.equals(now) ? null : now == null ? "" : now;
    }

    @Override
    public Map<String, String> tags(PackageName pkg, java.util.function.Consumer<RegistryException.BadPointer> bad)
            throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String n : childNamesAndFolders(tagDir(pkg))) {
            if (n.endsWith("/")) {
                if (Tags.isValid(n.substring(0, n.length() - 1))) {
                    bad.accept(new RegistryException.BadPointer(uri(), tagDir(pkg) + n,
                            "is a folder (keys below it), not a tag"));
                }
                continue;
            }
            if (!Tags.isValid(n)) {
                bad.accept(Pointers.misnamedTag(uri(), tagDir(pkg) + n));
                continue;
            }
            try {
                String h = readPointerKey(tagDir(pkg) + n);
                if (h != null) {
                    out.put(n, h);
                }
            } catch (RegistryException.BadPointer e) {
                bad.accept(e);
            }
        }
        return out;
    }

    @Override
    public String tag(PackageName pkg, String tag) throws IOException {
        Tags.require(tag);
        return readPointerKey(tagDir(pkg) + tag);
    }

    @Override
    public void setTag(PackageName pkg, String tag, String topHash) throws IOException {
        Tags.require(tag);
        LocalRegistry.requireHash(topHash);
        putBytes(tagDir(pkg) + tag, topHash.getBytes(StandardCharsets.US_ASCII), null);
    }

    @Override
    public boolean deleteTag(PackageName pkg, String tag) throws IOException {
        Tags.require(tag);
        String key = tagDir(pkg) + tag;
        if (head(key, null) == null) {
            return false;
        }
        call(url(key), () -> s3.deleteObject(r -> r.bucket(bucket).key(key)));
        return true;
    }

    /** Test hook: runs between compareAndDeleteTag's read of the tag and its delete. */
    volatile Runnable beforeTagDelete;

    /**
     * Reads the tag and deletes it only if it names {@code expected}: with {@code If-Match} on the
     * ETag read, so that a tag re-pointed in between is left alone.
     */
    @Override
    public String compareAndDeleteTag(PackageName pkg, String tag, String expected) throws IOException {
        Tags.require(tag);
        LocalRegistry.requireHash(expected);
        String key = tagDir(pkg) + tag;
        for (int attempt = 0; ; attempt++) {
            Small cur = getSmall(key, POINTER);
            String now = cur == null ? null : pointerValue(key, cur.bytes);
            if (!expected.equals(now)) {
                return now == null ? "" : now;
            }
            Runnable hook = beforeTagDelete;
            if (hook != null) {
                hook.run();
            }
            DeleteObjectRequest.Builder req = DeleteObjectRequest.builder().bucket(bucket).key(key);
            try {
                conditional(key, new Condition(cur.etag), v -> { }, req::ifMatch, () -> s3.deleteObject(req.build()));
                return null;
            } catch (ConditionFailed | RegistryException.NotFound e) {
                if (attempt >= 10) {
                    throw new RegistryException("could not delete tag '" + tag + "' of " + pkg + " in " + uri()
                            + ": it keeps changing under concurrent writers (try again)");
                }
                // Re-pointed, rewritten with the same value or deleted between our read and our
                // delete: read it again (a missing bucket is an error there).
            } catch (ConditionsUnsupported e) {
                conditionalWrites = false;
                log.warn("{} does not support conditional deletes; deleting tag '{}' of {} after reading it", where,
                        tag, pkg);
            }
        }
    }

    // ---------------------------------------------------------------- data objects: writes

    /**
     * A listing costs a request per 1,000 keys (about the revision's rows, or more) and saves
     * requests only for objects already there; a push of a few objects into a large package
     * asks about those few instead.
     */
    @Override
    public void placing(PackageName pkg, int count, int rows) {
        abortOrphansOnce(); // every push from the home cleans what killed ones left, large files or not
        String prefix = dataPrefix(pkg);
        long pages = Math.max(1, (rows + 999L) / 1000);
        if (count < PLACES_PER_PAGE * pages) {
            unlisted.add(prefix);
        } else {
            unlisted.remove(prefix);
        }
    }

    @Override
    public Placed place(PackageName pkg, String logicalKey, Checksum sum, long size, Path file)
            throws IOException {
        LogicalKey.require(logicalKey);
        String key = dataPrefix(pkg) + logicalKey;
        String memo = memo(key, sum, size);
        PhysicalKey known = confirmed.get(memo);
        if (known != null) {
            return new Placed(known, false);
        }
        Placed placed = placeNew(pkg, key, sum, size, file);
        confirmed.put(memo, placed.key());
        confirmed.put(memo(placed.key(), sum, size), placed.key());
        return placed;
    }

    /** Where a package's data objects go by default: {@code NS/NAME/}, as quilt3 puts them. */
    private static String dataPrefix(PackageName pkg) {
        return pkg.namespace() + "/" + pkg.name() + "/";
    }

    /** What {@link #confirmed} knows by: where, which content, and its size (a row may lie about it). */
    private static String memo(Object key, Checksum sum, long size) {
        return key + "\n" + sum.type().wireName() + ":" + sum.value() + "\n" + size;
    }

    private Placed placeNew(PackageName pkg, String key, Checksum sum, long size, Path file) throws IOException {
        String checksum = sum.type().wireName() + ":" + sum.value();
        HeadObjectResponse h = null;
        String prefix = dataPrefix(pkg);
        int start = prefix.length();
        Map<String, Listed> present = unlisted.contains(prefix) ? null : present(pkg);
        if (present != null) {
            Listed listed = present.get(key);
            if (listed == null && shapeClash(present, key, start)) {
                // An earlier revision has an object where this key needs a folder, or a folder
                // where it needs an object: stores on a file system (S3Proxy, MinIO) cannot hold
                // both, so this content goes to its content-addressed name.
                return placeAddressed(sum, size, file);
            }
            if (listed == null) {
                // Not there when the push began: upload straight away (one request, not a HEAD and
                // a PUT). If-None-Match keeps a key that appeared since from being overwritten.
                try {
                    Stored st = upload(key, file, size, sum, Condition.ABSENT);
                    list(present, key, new Listed(st.etag() == null ? "" : st.etag(), size), start);
                    return sent(key, st);
                } catch (ConditionFailed e) {
                    h = headWithChecksums(bucket, key, null);
                }
            } else {
                ConfirmedObjects.Entry known = record.get(key);
                if (known != null && known.etag().equals(listed.etag()) && known.checksum().equals(checksum)) {
                    // proved before, unchanged since
                    return new Placed(PhysicalKey.ofS3(bucket, key, known.version()), false);
                }
                if (listedHolds(listed, file, size) && knownUnversioned()) {
                    // The ETag S3 computed from the stored bytes is their MD5, and it is the MD5
                    // of this file: the same content, proved without a request.
                    record.put(key, listed.etag(), null, checksum);
                    return new Placed(PhysicalKey.ofS3(bucket, key, null), false);
                }
                h = headWithChecksums(bucket, key, null);
            }
        }
        // Without a listing, a small object is not asked about when the server can refuse a
        // taken key: its conditional PUT costs what a HEAD does. A larger one is asked first.
        boolean unasked = present == null && size <= ASK_FIRST && conditionalWrites;
        if (present == null && !unasked) {
            try {
                h = headWithChecksums(bucket, key, null);
            } catch (IOException e) {
                return placeAbove(e, key, start, sum, size, file);
            }
        }
        if (h == null) {
            try {
                return sent(key, upload(key, file, size, sum, unasked ? Condition.ABSENT_UNASKED : Condition.ABSENT));
            } catch (ConditionsUnsupported e) {
                // The server cannot refuse a taken key: ask, and write only if it is absent.
                try {
                    h = headWithChecksums(bucket, key, null);
                } catch (IOException ex) {
                    return placeAbove(ex, key, start, sum, size, file);
                }
                if (h == null) {
                    return sent(key, upload(key, file, size, sum, Condition.ABSENT));
                }
            } catch (ConditionFailed e) {
                h = headWithChecksums(bucket, key, null); // it is there (or another push stored something meanwhile)
                if (h == null) {
                    // Taken, yet nothing to HEAD: on a store kept in a file system (S3Proxy,
                    // MinIO) a folder of other objects is there. The content gets its own key.
                    return placeAddressed(sum, size, file);
                }
            } catch (IOException e) {
                if (present != null) {
                    throw e;
                }
                return placeAbove(e, key, start, sum, size, file);
            }
        }
        if (version(h.versionId()) != null) {
            versioned = true; // only a versioned bucket names versions
        }
        if (proves(h, sum, size, file)) {
            record.put(key, h.eTag(), version(h.versionId()), checksum);
            return new Placed(PhysicalKey.ofS3(bucket, key, version(h.versionId())), false);
        }
        if (isVersioned()) {
            // Earlier revisions name their version: a new version at the same key harms none.
            // (Not known, the safe side is taken: the content goes to its own key below.)
            return sent(key, upload(key, file, size, sum, null));
        }
        // Different content sits at the default place and an earlier revision may point at it:
        // store this content under its content-addressed name instead.
        return placeAddressed(sum, size, file);
    }

    /** Stores {@code file} under its content-addressed key (once: a copy already there is kept). */
    private Placed placeAddressed(Checksum sum, long size, Path file) throws IOException {
        String addressed = ".quilt/objects/" + Home.objectName(sum);
        HeadObjectResponse a = headWithChecksums(bucket, addressed, null);
        if (a != null && proves(a, sum, size, file)) {
            return new Placed(PhysicalKey.ofS3(bucket, addressed, version(a.versionId())), false);
        }
        return sent(addressed, upload(addressed, file, size, sum, null));
    }

    /**
     * After a request about {@code key} failed, without a listing: an object at one of its
     * folders explains it (a store kept in a file system, such as S3Proxy or MinIO, answers a
     * HEAD or a write below an object with an error), and the content goes to its own key;
     * otherwise the failure stands.
     */
    private Placed placeAbove(IOException failure, String key, int start, Checksum sum, long size, Path file)
            throws IOException {
        if (objectAbove(key, start)) {
            return placeAddressed(sum, size, file);
        }
        throw failure;
    }

    /** Whether an object is stored at one of {@code key}'s folders (those after {@code start}). */
    private boolean objectAbove(String key, int start) throws IOException {
        for (int i = key.indexOf('/', start); i > 0; i = key.indexOf('/', i + 1)) {
            if (head(key.substring(0, i), null) != null) {
                return true;
            }
        }
        return false;
    }

    /** A listing's entry for a folder: a key {@code "a/b/"} stands for every key under it. */
    private static final Listed FOLDER = new Listed("/", -1);

    /**
     * Whether {@code key} cannot be stored beside what {@code present} lists: a listed object is
     * one of its folders, or it is a folder of listed objects. Folders begin after {@code start}.
     */
    private static boolean shapeClash(Map<String, Listed> present, String key, int start) {
        if (present.get(key + "/") != null) {
            return true;
        }
        for (int i = key.indexOf('/', start); i > 0; i = key.indexOf('/', i + 1)) {
            Listed above = present.get(key.substring(0, i));
            if (above != null && above != FOLDER) {
                return true;
            }
        }
        return false;
    }

    /** Adds {@code key} to a listing, with its folders (those after {@code start}). */
    private static void list(Map<String, Listed> present, String key, Listed listed, int start) {
        present.put(key, listed);
        for (int i = key.indexOf('/', start); i > 0; i = key.indexOf('/', i + 1)) {
            present.putIfAbsent(key.substring(0, i + 1), FOLDER);
        }
    }

    private Placed sent(String key, Stored st) {
        return new Placed(PhysicalKey.ofS3(bucket, key, st.version()), true);
    }

    /** A key of a listing: its ETag (unquoted) and size. */
    private record Listed(String etag, long size) {
    }

    private static final java.util.regex.Pattern MD5_ETAG = java.util.regex.Pattern.compile("[0-9a-f]{32}");

    /**
     * Whether a listed object holds the bytes of {@code file}, by the MD5 ETag S3 gives an object
     * stored in one request (objects stored in parts, or encrypted with KMS, have another kind of
     * ETag and are asked about instead). Only for objects below {@link Tuning#md5ProofLimit}, where
     * reading the file again costs less than a request.
     */
    private boolean listedHolds(Listed listed, Path file, long size) throws IOException {
        if (listed.size() != size || size >= tuning.md5ProofLimit() || !MD5_ETAG.matcher(listed.etag()).matches()) {
            return false;
        }
        byte[] md5 = digestOf(file, size, 0, "MD5");
        return md5 != null && java.util.HexFormat.of().formatHex(md5).equals(listed.etag());
    }

    /**
     * The keys under {@code NS/NAME/} and their ETags when this instance first pushed to the
     * package (one listing per package and instance, so that a push of many new files costs one
     * request per file, and of files already confirmed none), or null when there are too many to
     * list cheaply (then every object gets a HEAD).
     */
    private Map<String, Listed> present(PackageName pkg) throws IOException {
        String prefix = dataPrefix(pkg);
        try {
            return listings.computeIfAbsent(prefix, p -> {
                try {
                    Map<String, Listed> keys = new ConcurrentHashMap<>();
                    String token = null;
                    int pages = 0;
                    do {
                        if (++pages > MAX_LISTING_PAGES) {
                            return Optional.empty();
                        }
                        String t = token;
                        ListObjectsV2Response page = call(url(p), () -> s3.listObjectsV2(r -> r.bucket(bucket)
                                .prefix(p).continuationToken(t).encodingType(EncodingType.URL)));
                        for (S3Object o : page.contents()) {
                            list(keys, o.key(), new Listed(o.eTag() == null ? "" : ConfirmedObjects.unquote(o.eTag()),
                                    o.size() == null ? -1 : o.size()), p.length());
                        }
                        token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
                    } while (token != null);
                    return Optional.of(keys);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).orElse(null);
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    @Override
    public boolean holds(PhysicalKey key, Checksum sum, long size) throws IOException {
        if (!key.isS3()) {
            return false;
        }
        String memo = memo(key, sum, size);
        if (confirmed.containsKey(memo)) {
            return true;
        }
        HeadObjectResponse h = headWithChecksums(key.bucket(), key.path(), key.versionId());
        if (h != null && proves(h, sum, size, null)) {
            confirmed.put(memo, key);
            return true;
        }
        return false;
    }

    /**
     * Whether an object, by its HEAD (asked with checksums), holds the content of a row: its size
     * and then, cheapest first, quiltfs's own metadata, S3's own checksum of the row's type
     * ({@link #provedByChecksum}), and, with {@code file} (the content, hashed to {@code sum}),
     * what reading it can compare ({@link #provedByReading}). Only equal digests prove anything:
     * an absent or unreadable checksum or ETag leaves the content unproved (it is uploaded).
     */
    private static boolean proves(HeadObjectResponse h, Checksum sum, long size, Path file) throws IOException {
        if (h.contentLength() == null || h.contentLength() != size) {
            return false;
        }
        if (sum.toString().equals(h.metadata().get(CHECKSUM_META))) {
            return true;
        }
        Boolean bySum = provedByChecksum(h, sum, size);
        if (bySum != null) {
            return bySum;
        }
        return file != null && provedByReading(h, sum, size, file);
    }

    /** A composite checksum of a multipart upload: {@code BASE64-N}. */
    private static final java.util.regex.Pattern COMPOSITE = java.util.regex.Pattern.compile("([A-Za-z0-9+/=]+)-([0-9]{1,9})");

    /**
     * Whether S3's own checksum of an object (of {@code size} bytes) proves or disproves that it
     * holds {@code sum}, without reading anything; null when it cannot tell. A
     * {@code sha2-256-chunked} value is S3's composite SHA-256 of a multipart upload whose parts
     * are its chunks ({@code VALUE-N}, N the chunk count: how quilt3 and quiltfs upload), or
     * follows from the full-object SHA-256 of a file of at most one chunk (the empty file's value
     * is the SHA-256 of nothing; one chunk's is the SHA-256 of its SHA-256). A {@code SHA256} row
     * is the full-object SHA-256 in hex; a {@code CRC64NVME} row is S3's full-object CRC itself.
     */
    static Boolean provedByChecksum(HeadObjectResponse h, Checksum sum, long size) {
        if (!sum.isWellFormed()) {
            return null;
        }
        switch (sum.type()) {
            case SHA2_256_CHUNKED, SHA256 -> {
                String v = h.checksumSHA256();
                if (v == null) {
                    return null;
                }
                java.util.regex.Matcher m = COMPOSITE.matcher(v);
                if (m.matches()) {
                    if (sum.type() != HashType.SHA2_256_CHUNKED || Long.parseLong(m.group(2)) != ChunkSize.count(size)) {
                        return null; // parts of another size, or a whole-file row: only reading tells
                    }
                    return m.group(1).equals(sum.value());
                }
                byte[] whole = h.checksumType() == ChecksumType.COMPOSITE ? null : Checksum.decodeCanonical(HashType.SHA2_256_CHUNKED, v);
                if (whole == null) {
                    return null;
                }
                if (sum.type() == HashType.SHA256) {
                    return sum.sameDigest(whole);
                }
                long chunks = ChunkSize.count(size);
                if (chunks == 0) {
                    return sum.sameDigest(whole);
                }
                return chunks == 1 ? sum.sameDigest(Sha256.newDigest().digest(whole)) : null;
            }
            case CRC64NVME -> {
                String v = h.checksumCRC64NVME();
                return v == null || Checksum.decodeCanonical(HashType.CRC64NVME, v) == null ? null : v.equals(sum.value());
            }
            default -> {
                return null;
            }
        }
    }

    private static final java.util.regex.Pattern MULTIPART_ETAG = java.util.regex.Pattern.compile("([0-9a-f]{32})-([0-9]{1,9})");

    /**
     * Whether an object holds the bytes of {@code file} (hashed to {@code sum}), by what reading
     * the file can compare with its HEAD, when S3's checksum alone cannot tell: S3's composite
     * SHA-256 against the file's chunks (a {@code SHA256} row), S3's full-object SHA-256 (a
     * {@code sha2-256-chunked} row of several chunks), else the ETag: the MD5 of an object stored
     * in one request, or {@code md5(md5(part 1) .. md5(part N))-N} of a multipart upload whose
     * parts are the chunks of {@code sha2-256-chunked} (as quilt3, the AWS CLI and quiltfs
     * upload). Reading the file costs less than uploading it.
     */
    private static boolean provedByReading(HeadObjectResponse h, Checksum sum, long size, Path file) throws IOException {
        long part = ChunkSize.forSize(size);
        long chunks = ChunkSize.count(size);
        String v = h.checksumSHA256();
        if (v != null) {
            java.util.regex.Matcher m = COMPOSITE.matcher(v);
            if (m.matches() && sum.type() == HashType.SHA256 && Long.parseLong(m.group(2)) == chunks) {
                java.security.MessageDigest outer = Sha256.newDigest();
                for (byte[] d : FileHasher.partDigests(file, size, part, sum)) {
                    outer.update(d);
                }
                return m.group(1).equals(base64(outer.digest()));
            }
            byte[] whole = m.matches() || h.checksumType() == ChecksumType.COMPOSITE ? null
                    : Checksum.decodeCanonical(HashType.SHA2_256_CHUNKED, v);
            if (whole != null && sum.type() == HashType.SHA2_256_CHUNKED) {
                return java.util.Arrays.equals(whole, digestOf(file, size, 0, "SHA-256"));
            }
        }
        String etag = ConfirmedObjects.unquote(h.eTag());
        if (etag == null) {
            return false;
        }
        byte[] md5 = null;
        if (MD5_ETAG.matcher(etag).matches()) {
            md5 = digestOf(file, size, 0, "MD5");
        } else {
            java.util.regex.Matcher m = MULTIPART_ETAG.matcher(etag);
            if (m.matches() && Long.parseLong(m.group(2)) == Math.max(1, chunks)) {
                etag = m.group(1);
                md5 = digestOf(file, size, part, "MD5");
            }
        }
        return md5 != null && etag.equals(java.util.HexFormat.of().formatHex(md5));
    }

    /**
     * The {@code algorithm} digest of a file of {@code size} bytes ({@code part} 0), or the digest
     * of the digests of its {@code part}-byte parts, the way S3 makes a multipart ETag. Null when
     * the file is not {@code size} bytes long (it changed since it was hashed).
     */
    private static byte[] digestOf(Path file, long size, long part, String algorithm) throws IOException {
        java.security.MessageDigest md;
        java.security.MessageDigest outer;
        try {
            md = java.security.MessageDigest.getInstance(algorithm);
            outer = java.security.MessageDigest.getInstance(algorithm);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is missing from this JVM", e);
        }
        long step = part > 0 ? part : Long.MAX_VALUE;
        ByteBuffer buf = ByteBuffer.allocate((int) Math.max(1, Math.min(1 << 20, size)));
        long total = 0;
        long inPart = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (true) {
                buf.clear().limit((int) Math.min(buf.capacity(), step - inPart));
                int n = ch.read(buf);
                if (n <= 0) {
                    break;
                }
                md.update(buf.array(), 0, n);
                total += n;
                inPart += n;
                if (inPart == step) {
                    outer.update(md.digest());
                    inPart = 0;
                }
            }
        }
        if (total != size) {
            return null;
        }
        if (part <= 0) {
            return md.digest();
        }
        if (inPart > 0) {
            outer.update(md.digest());
        }
        return outer.digest();
    }

    /**
     * Whether the bucket is known to keep versions. False when that is not known because the
     * credentials may not ask: then new content never goes to a key that holds other content,
     * which is safe either way.
     */
    private boolean isVersioned() throws IOException {
        Boolean v = versioned;
        if (v != null) {
            return v;
        }
        synchronized (this) { // asked once, however many uploads need it at the same moment
            return Boolean.TRUE.equals(askVersioned());
        }
    }

    /** Whether the bucket is known not to keep versions (an object stored there has no version id). */
    private boolean knownUnversioned() throws IOException {
        Boolean v = versioned;
        if (v != null) {
            return !v;
        }
        synchronized (this) {
            return Boolean.FALSE.equals(askVersioned());
        }
    }

    /** GetBucketVersioning, once; null when the credentials may not ask. */
    private Boolean askVersioned() throws IOException {
        Boolean v = versioned;
        if (v == null && !versioningDenied) {
            try {
                v = blocking(() -> s3.getBucketVersioning(r -> r.bucket(bucket)).status() == BucketVersioningStatus.ENABLED);
            } catch (S3Exception e) {
                if ("NoSuchBucket".equals(code(e))) {
                    throw failure(uri(), e);
                }
                if (e.statusCode() == 403) {
                    // Minimal policies (GetObject, PutObject, ListBucket) lack this permission;
                    // what a PUT returns tells it too (a version id or none).
                    log.debug("{}: not allowed to ask whether the bucket is versioned; learning it from writes", uri());
                    versioningDenied = true;
                    return null;
                }
                v = false; // a server without versioning (S3Proxy's filesystem backend answers 501)
            } catch (SdkException e) {
                throw failure(uri(), e);
            }
            versioned = v;
        }
        return v;
    }

    private static String version(String v) {
        return v == null || v.isEmpty() || v.equals("null") ? null : v;
    }

    /** What an upload stored: the version id (null when the bucket is unversioned) and the ETag. */
    private record Stored(String version, String etag) {
    }

    /** Uploads a file and records it as confirmed. */
    private Stored upload(String key, Path file, long size, Checksum sum, Condition condition) throws IOException {
        String checksum = sum.type().wireName() + ":" + sum.value();
        Stored st = store(key, file, size, sum, condition);
        if (versioned == null && (st.version() != null || versioningDenied)) {
            // S3 names the version of every write to a versioned bucket, and of none otherwise.
            versioned = st.version() != null;
        }
        record.put(key, st.etag(), st.version(), checksum);
        return st;
    }

    /**
     * Stores a file at {@code key}. Every request carries the SHA-256 of its body
     * ({@code x-amz-checksum-sha256}): the body of a single PUT is at most one chunk of
     * {@code sha2-256-chunked} and a multipart upload's parts are its chunks, so a freshly hashed
     * file's digests need no second read. S3 refuses a body that differs, so what it stores is
     * what was hashed. (A single PUT of a file of two chunks would need the SHA-256 of the whole
     * file: a second pass over it, and one that hashes what the file holds now, not what the row
     * says.) A {@code SHA256} row is the digest of the whole body: such a file goes in one PUT
     * up to {@link #SHA256_PUT_MAX}.
     */
    private Stored store(String key, Path file, long size, Checksum sum, Condition condition) throws IOException {
        Map<String, String> meta = Map.of(CHECKSUM_META, sum.type().wireName() + ":" + sum.value());
        boolean onePut = size <= ChunkSize.MIN || (sum.type() == HashType.SHA256 && size < SHA256_PUT_MAX);
        if (onePut) {
            byte[] digest = FileHasher.partDigests(file, size, Math.max(size, 1), sum)[0];
            PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(bucket).key(key)
                    .contentLength(size).metadata(meta).checksumSHA256(base64(digest));
            var r = conditional(key, condition, req::ifNoneMatch, req::ifMatch,
                    () -> s3.putObject(req.build(), RequestBody.fromFile(file)));
            return new Stored(version(r.versionId()), ConfirmedObjects.unquote(r.eTag()));
        }
        long part = ChunkSize.forSize(size);
        int parts = (int) ((size + part - 1) / part);
        byte[][] digests = FileHasher.partDigests(file, size, part, sum);
        abortOrphansOnce();
        String id = call(url(key), () -> s3.createMultipartUpload(r -> r.bucket(bucket).key(key).metadata(meta)
                .checksumAlgorithm(ChecksumAlgorithm.SHA256))).uploadId();
        Path recorded = uploads.begin(key, id);
        boolean done = false;
        if (!OpenUploads.add(id, () -> s3.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(id)))) {
            throw new java.io.InterruptedIOException("stopping: the multipart upload of " + url(key) + " was aborted");
        }
        try {
            CompletedPart[] completed = new CompletedPart[parts];
            inParallel(parts, i -> {
                long off = i * part;
                long len = Math.min(part, size - off);
                String digest = base64(digests[i]);
                String etag = call(url(key) + " (part " + (i + 1) + " of " + parts + ")", () -> s3.uploadPart(
                        r -> r.bucket(bucket).key(key).uploadId(id).partNumber(i + 1).contentLength(len)
                                .checksumSHA256(digest),
                        RequestBody.fromContentProvider(() -> slice(file, off, len), len, "application/octet-stream")))
                        .eTag();
                completed[i] = CompletedPart.builder().partNumber(i + 1).eTag(etag).checksumSHA256(digest).build();
            });
            var req = software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest.builder()
                    .bucket(bucket).key(key).uploadId(id).multipartUpload(m -> m.parts(completed));
            // From here a stop must not abort it: an abort racing the completion could, on some
            // stores, damage the object the completion makes.
            OpenUploads.remove(id);
            var r = conditional(key, condition, req::ifNoneMatch, req::ifMatch,
                    () -> s3.completeMultipartUpload(req.build()));
            done = true;
            return new Stored(version(r.versionId()), ConfirmedObjects.unquote(r.eTag()));
        } finally {
            OpenUploads.remove(id);
            if (done) {
                uploads.end(recorded);
            } else {
                try {
                    blocking(() -> s3.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(id)));
                    uploads.end(recorded);
                } catch (SdkException e) {
                    // Recorded still: a later push from this home aborts it.
                    log.debug("could not abort the multipart upload of {}: {}", url(key), e.getMessage());
                }
            }
        }
    }

    /**
     * Aborts the multipart uploads that processes of this home, killed since, left open in the
     * bucket ({@link UploadJournal}). Best effort: one that cannot be aborted now stays recorded.
     */
    private void abortOrphansOnce() {
        if (!orphansAborted.compareAndSet(false, true)) {
            return;
        }
        int aborted = 0;
        for (UploadJournal.Orphan o : uploads.orphans()) {
            try {
                blocking(() -> s3.abortMultipartUpload(r -> r.bucket(bucket).key(o.key()).uploadId(o.uploadId())));
                aborted++;
            } catch (S3Exception e) {
                String code = code(e);
                if (e.statusCode() == 403) {
                    // Retrying at every push would not help: say it once and forget it.
                    log.warn("cannot abort the multipart upload of {} that a killed push left ({}): its parts"
                            + " stay in {} until a lifecycle rule removes them", url(o.key()), code, bucket);
                } else if (!"NoSuchUpload".equals(code) && !"NoSuchBucket".equals(code)) {
                    log.debug("could not abort the multipart upload of {}: {}", url(o.key()), e.getMessage());
                    continue;
                }
                // else completed, aborted by a shutdown hook, expired, or its bucket is gone
            } catch (SdkException e) {
                log.debug("could not abort the multipart upload of {}: {}", url(o.key()), e.getMessage());
                continue;
            }
            uploads.end(o.file());
        }
        if (aborted > 0) {
            log.info("aborted {} multipart upload(s) that a killed process left open in {}", aborted, uri());
        }
    }

    /**
     * The multipart uploads in flight in this process, aborted by a shutdown hook when the JVM is
     * stopped before they end (Ctrl-C, SIGTERM; nothing can be done on SIGKILL): their parts would
     * otherwise stay in the bucket, unlisted and billed, until a lifecycle rule removes them. The
     * aborts run in parallel for at most {@link #ABORT_WAIT}: a stopped command must not hang on
     * an unreachable server.
     */
    static final class OpenUploads {
        static final Duration ABORT_WAIT = Duration.ofSeconds(5);
        private static final Map<String, Runnable> ABORTS = new ConcurrentHashMap<>();
        private static final java.util.concurrent.atomic.AtomicBoolean HOOKED =
                new java.util.concurrent.atomic.AtomicBoolean();

        private OpenUploads() {
        }

        /** Set by the hook: an upload begun from now on is aborted at once by its own thread. */
        private static volatile boolean stopping;

        /**
         * Records an upload in flight; false when the process is stopping (the upload was then
         * aborted here, and must not go on).
         */
        static boolean add(String uploadId, Runnable abort) {
            if (HOOKED.compareAndSet(false, true)) {
                try {
                    Runtime.getRuntime().addShutdownHook(new Thread(OpenUploads::abortAll, "quiltfs-abort-uploads"));
                } catch (IllegalStateException shuttingDown) {
                    stopping = true;
                }
            }
            ABORTS.put(uploadId, abort);
            // Put, then look (the hook sets the flag, then looks): one of the two sees the other.
            if (stopping && ABORTS.remove(uploadId) != null) {
                runQuietly(abort);
                return false;
            }
            return true;
        }

        static void remove(String uploadId) {
            ABORTS.remove(uploadId);
        }

        private static void runQuietly(Runnable abort) {
            try {
                abort.run();
            } catch (RuntimeException e) {
                // best effort: the process is stopping
            }
        }

        private static void abortAll() {
            stopping = true;
            List<Thread> running = new ArrayList<>();
            for (String id : ABORTS.keySet()) {
                Runnable abort = ABORTS.remove(id); // whoever removes it aborts it
                if (abort == null) {
                    continue;
                }
                Thread t = new Thread(() -> runQuietly(abort), "quiltfs-abort-upload");
                t.setDaemon(true);
                t.start();
                running.add(t);
            }
            long deadline = System.nanoTime() + ABORT_WAIT.toNanos();
            for (Thread t : running) {
                try {
                    t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private static InputStream slice(Path file, long off, long len) {
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            ch.position(off);
            return new LocalRegistry.BoundedInputStream(Channels.newInputStream(ch), len);
        } catch (IOException e) {
            throw SdkClientException.create("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private void putBytes(String key, byte[] bytes, Condition condition) throws IOException {
        PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(bucket).key(key).contentLength((long) bytes.length)
                .checksumSHA256(base64(Sha256.newDigest().digest(bytes)));
        conditional(key, condition, req::ifNoneMatch, req::ifMatch,
                () -> s3.putObject(req.build(), RequestBody.fromBytes(bytes)));
    }

    /**
     * A write precondition: the key must be absent ({@link #ABSENT}) or still hold {@code etag}.
     * {@code asked}: whether the writer knows from a listing or a HEAD that the key was absent;
     * when it does not ({@link #ABSENT_UNASKED}), a server without conditional writes is not
     * written to unconditionally ({@link ConditionsUnsupported}: ask first).
     */
    private record Condition(String etag, boolean asked) {
        static final Condition ABSENT = new Condition(null, true);
        static final Condition ABSENT_UNASKED = new Condition(null, false);

        Condition(String etag) {
            this(etag, true);
        }
    }

    /** A conditional write found its condition false. */
    private static final class ConditionFailed extends IOException {
        ConditionFailed() {
            super("precondition failed");
        }
    }

    /** The server does not implement conditional writes. */
    private static final class ConditionsUnsupported extends IOException {
        ConditionsUnsupported() {
            super("conditional writes are not supported");
        }
    }

    private <T> T conditional(String key, Condition c, java.util.function.Consumer<String> ifNoneMatch,
                              java.util.function.Consumer<String> ifMatch, Supplier<T> write) throws IOException {
        boolean sent = c != null && conditionalWrites;
        if (sent) {
            if (c.etag() == null) {
                ifNoneMatch.accept("*");
            } else {
                ifMatch.accept(c.etag());
            }
        }
        try {
            return blocking(write);
        } catch (S3Exception e) {
            if (sent && (e.statusCode() == 412 || e.statusCode() == 409)) {
                throw new ConditionFailed();
            }
            if (sent && e.statusCode() == 501) {
                if (!c.asked()) {
                    conditionalWrites = false;
                    log.warn("{} does not support conditional writes; asking before each write", where);
                    throw new ConditionsUnsupported();
                }
                if (c.etag() != null) {
                    throw new ConditionsUnsupported();
                }
                // Creating only when absent was a safeguard against a concurrent push of the
                // same key; without server support the write goes ahead (see the class comment).
                conditionalWrites = false;
                log.warn("{} does not support conditional writes; writing {} unconditionally", where, url(key));
                ifNoneMatch.accept(null);
                return call(url(key), write);
            }
            throw failure(url(key), e);
        } catch (SdkException e) {
            throw failure(url(key), e);
        }
    }

    // ---------------------------------------------------------------- data objects: reads

    @Override
    public boolean canRead(PhysicalKey key) {
        // One client reads every bucket its credentials reach (cross-region on AWS).
        return key.isS3();
    }

    @Override
    public long size(PhysicalKey key) throws IOException {
        HeadObjectResponse h = head(key.bucket(), key.path(), key.versionId());
        if (h == null) {
            throw new RegistryException.NotFound("object " + key + " does not exist");
        }
        return h.contentLength();
    }

    /**
     * One GET; the key returned carries the version id S3 served (as quilt3 records it for a
     * workflow config or schema: S3's value as is, {@code "null"} included).
     */
    @Override
    public Read readAll(PhysicalKey key) throws IOException {
        if (!key.isS3()) {
            return LocalRegistry.LocalFiles.INSTANCE.readAll(key);
        }
        try {
            var r = blocking(() -> s3.getObjectAsBytes(b -> b.bucket(key.bucket()).key(key.path())
                    .versionId(key.versionId())));
            String v = r.response().versionId();
            return new Read(r.asByteArray(), v == null || v.isEmpty() ? key : key.withVersion(v));
        } catch (NoSuchKeyException e) {
            throw new RegistryException.NotFound("object " + key + " does not exist");
        } catch (S3Exception e) {
            if (e.statusCode() == 404 && !"NoSuchBucket".equals(code(e))) {
                throw new RegistryException.NotFound("object " + key + " does not exist");
            }
            throw failure(key.toString(), e);
        } catch (SdkException e) {
            throw failure(key.toString(), e);
        }
    }

    @Override
    public InputStream open(PhysicalKey key, long offset, long length) throws IOException {
        if (!key.isS3()) {
            return LocalRegistry.LocalFiles.INSTANCE.open(key, offset, length);
        }
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset);
        }
        return new ObjectStream(key, offset, length < 0 ? -1 : offset + length);
    }

    /**
     * Large objects come down as a few parallel ranged GETs (a whole number of pieces each,
     * {@link Tuning#parallelism} of them, at least {@link Tuning#minRange}), written straight into
     * place; each range resumes on its own after a dropped connection. Few large ranges beat many
     * small ones: every request costs the server a lookup and the client a round trip (measured
     * against S3Proxy in bench/s3.sh). All ranges must carry the same ETag and the object must
     * have the expected size, else the download fails (the caller verifies content).
     */
    @Override
    public long download(PhysicalKey key, long expectedSize, long pieceSize, FileChannel out, Pieces pieces)
            throws IOException {
        long piece = pieceSize > 0 ? pieceSize : RANGE;
        long range = Math.max(tuning.minRange(), (expectedSize + tuning.parallelism() - 1) / tuning.parallelism());
        range = (range + piece - 1) / piece * piece;
        if (!key.isS3() || expectedSize <= range) {
            return Registry.super.download(key, expectedSize, piece, out, pieces);
        }
        long rangeSize = range;
        int n = (int) ((expectedSize + range - 1) / range);
        String[] etags = new String[n];
        long[] totals = new long[n];
        inParallel(n, i -> {
            long off = i * rangeSize;
            long end = Math.min(expectedSize, off + rangeSize);
            byte[] buf = new byte[COPY_BUFFER];
            long pos = off;
            try (ObjectStream in = new ObjectStream(key, off, end)) {
                for (int r; (r = in.read(buf, 0, buf.length)) >= 0; ) {
                    ObjectSource.feed(pieces, piece, pos, buf, r);
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, r);
                    while (bb.hasRemaining()) {
                        pos += out.write(bb, pos);
                    }
                }
                etags[i] = in.etag;
                totals[i] = in.total;
            }
            if (pos != end) {
                throw new RegistryException("object " + key + " ended at byte " + pos + ", expected " + end);
            }
        });
        for (int i = 0; i < n; i++) {
            if (totals[i] != expectedSize) {
                throw new RegistryException("object " + key + " is " + totals[i] + " bytes, its manifest row says "
                        + expectedSize);
            }
            if (!Objects.equals(etags[i], etags[0])) {
                throw new RegistryException("object " + key + " changed while it was downloaded (try again)");
            }
        }
        return expectedSize;
    }

    /**
     * One object's bytes {@code [pos, end)} (end -1: to the end), resuming after a dropped or
     * stalled connection from where it stopped, pinned to the first response's ETag.
     */
    private final class ObjectStream extends InputStream {
        private final PhysicalKey key;
        private long pos;
        private long end;
        private String etag;
        private long total = -1;
        private ResponseInputStream<GetObjectResponse> in;
        private int failures;

        ObjectStream(PhysicalKey key, long pos, long end) {
            this.key = key;
            this.pos = pos;
            this.end = end;
        }

        private void connect() throws IOException {
            GetObjectRequest.Builder b = GetObjectRequest.builder().bucket(key.bucket()).key(key.path());
            if (key.versionId() != null) {
                b.versionId(key.versionId());
            }
            if (etag != null) {
                b.ifMatch(etag);
            }
            if (pos > 0 || end >= 0) {
                b.range("bytes=" + pos + "-" + (end >= 0 ? Long.toString(end - 1) : ""));
            }
            try {
                in = blocking(() -> s3.getObject(b.build()));
            } catch (S3Exception e) {
                if (e.statusCode() == 412) {
                    throw new RegistryException("object " + key + " changed while it was being read (try again)");
                }
                if (e.statusCode() == 404 && !"NoSuchBucket".equals(code(e))) {
                    throw new RegistryException.NotFound("object " + key + " does not exist");
                }
                if (e.statusCode() == 416) {
                    // Asked only for bytes its row says it has: the object is shorter than that.
                    throw new RegistryException("object " + key + " is shorter than its manifest row says:"
                            + " it has no byte " + pos + " (the registry is damaged, or the row is wrong)");
                }
                throw failure(key.toString(), e);
            } catch (SdkException e) {
                throw failure(key.toString(), e);
            }
            GetObjectResponse r = in.response();
            if (etag == null) {
                etag = r.eTag();
            }
            long len = r.contentLength() == null ? -1 : r.contentLength();
            String cr = r.contentRange();
            if (cr != null && cr.lastIndexOf('/') >= 0 && !cr.endsWith("*")) {
                total = Long.parseLong(cr.substring(cr.lastIndexOf('/') + 1).trim());
            } else if (total < 0 && len >= 0 && pos == 0) {
                total = len;
            }
            if (end < 0 && len >= 0) {
                end = pos + len;
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (true) {
                if (end >= 0 && pos >= end) {
                    release();
                    return -1;
                }
                if (in == null) {
                    connect();
                    continue;
                }
                int n;
                try {
                    n = in.read(b, off, end >= 0 ? (int) Math.min(len, end - pos) : len);
                } catch (IOException | SdkClientException e) {
                    dropped(e);
                    continue;
                }
                if (n < 0) {
                    if (end < 0) {
                        release();
                        return -1;
                    }
                    dropped(new EOFException("the connection closed at byte " + pos + " of " + end));
                    continue;
                }
                pos += n;
                return n;
            }
        }

        private void dropped(Exception e) throws IOException {
            abort();
            failures++;
            if (failures >= tuning.streamAttempts()) {
                throw new RegistryException("reading " + key + " from " + where + " failed " + failures
                        + " times, last at byte " + pos + ": " + describe(e), e);
            }
            log.debug("reading {} failed at byte {} ({}); resuming", key, pos, describe(e));
            backoff(failures);
        }

        private void abort() {
            if (in != null) {
                in.abort();
                try {
                    in.close();
                } catch (IOException | RuntimeException ignored) {
                    // the connection is gone either way
                }
                in = null;
            }
        }

        private void release() throws IOException {
            if (in != null) {
                in.close();
                in = null;
            }
        }

        @Override
        public void close() {
            // Abort rather than drain: an unread rest of a large object is not worth reading.
            if (in != null && end >= 0 && pos < end) {
                abort();
            } else {
                try {
                    release();
                } catch (IOException e) {
                    abort();
                }
            }
        }
    }

    private static void backoff(int failures) throws InterruptedIOException {
        long cap = Math.min(5_000, 50L << Math.min(failures, 10));
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(cap / 2, cap + 1));
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry");
        }
    }

    // ---------------------------------------------------------------- requests

    /** A small object's bytes and ETag. */
    private record Small(byte[] bytes, String etag) {
    }

    /**
     * How a small object's body is read: the bytes wanted, fewer than the object's when the rest
     * is not (it is then dropped, not downloaded).
     */
    private interface Body {
        byte[] read(InputStream in, long length) throws IOException;
    }

    /** A pointer: a little more than it may hold, never a huge object whole. */
    private static final Body POINTER = (in, length) -> in.readNBytes(Pointers.MAX_BYTES + 1);

    /** A small object, or null when the key does not exist (a missing bucket is an error). */
    private Small getSmall(String key, Body body) throws IOException {
        return getSmall(key, null, body);
    }

    /** {@link #getSmall(String, Body)} of a {@code range} of the object (null: all of it). */
    private Small getSmall(String key, String range, Body body) throws IOException {
        try {
            return blocking(() -> s3.getObject(b -> b.bucket(bucket).key(key).range(range), (response, in) -> {
                Long length = response.contentLength();
                byte[] bytes;
                try {
                    bytes = body.read(in, length == null ? -1 : length);
                } catch (IOException e) {
                    // As the SDK's own byte reader: a body cut or stalled is tried again.
                    throw software.amazon.awssdk.core.exception.RetryableException.builder()
                            .message("Failed to read response.").cause(e).build();
                }
                if (length == null || bytes.length < length) {
                    in.abort(); // do not download the rest only to reuse the connection
                }
                return new Small(bytes, response.eTag());
            }));
        } catch (NoSuchKeyException e) {
            return null;
        } catch (S3Exception e) {
            if (e.statusCode() == 404 && !"NoSuchBucket".equals(code(e))) {
                return null;
            }
            if (e.statusCode() == 416 && range != null) {
                return new Small(new byte[0], null); // an empty object has no first byte to range over
            }
            throw failure(url(key), e);
        } catch (SdkException e) {
            throw failure(url(key), e);
        }
    }

    private HeadObjectResponse head(String key, String versionId) throws IOException {
        return head(bucket, key, versionId);
    }

    /**
     * The object's HEAD, or null when it does not exist; {@link RegistryException.NotFound} when
     * the bucket does not.
     */
    private HeadObjectResponse head(String b, String key, String versionId) throws IOException {
        return head(b, key, versionId, false);
    }

    /**
     * The object's HEAD with S3's own checksums ({@code x-amz-checksum-mode: ENABLED}), for
     * {@link #proves}; null when it does not exist.
     */
    private HeadObjectResponse headWithChecksums(String b, String key, String versionId) throws IOException {
        return head(b, key, versionId, true);
    }

    private HeadObjectResponse head(String b, String key, String versionId, boolean checksums) throws IOException {
        try {
            return blocking(() -> s3.headObject(r -> r.bucket(b).key(key).versionId(versionId)
                    .checksumMode(checksums ? ChecksumMode.ENABLED : null)));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                requireBucket(b);
                return null;
            }
            if (checksums && e.statusCode() == 403) {
                // AWS asks for kms:Decrypt before it shows the checksums of a KMS-encrypted
                // object; without them the object can still be proved by its metadata or ETag.
                log.debug("s3://{}/{}: HEAD with checksums refused, asking without", b, key);
                return head(b, key, versionId, false);
            }
            throw failure("s3://" + b + "/" + key, e);
        } catch (SdkException e) {
            throw failure("s3://" + b + "/" + key, e);
        }
    }

    /**
     * Fails when bucket {@code b} does not exist. A 404 on a HEAD has no body to say whether the
     * key or the whole bucket is missing, so the first one per bucket asks the bucket (a
     * HeadBucket); a bucket found once is not asked again. A bucket the credentials may not
     * ask about (403) is taken to exist: the HEAD of the object was answered.
     */
    private void requireBucket(String b) throws IOException {
        if (buckets.contains(b)) {
            return;
        }
        try {
            blocking(() -> s3.headBucket(r -> r.bucket(b)));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                throw noBucket(b);
            }
            if (e.statusCode() != 403) {
                throw failure("s3://" + b, e);
            }
        } catch (SdkException e) {
            throw failure("s3://" + b, e);
        }
        buckets.add(b);
    }

    private RegistryException noBucket(String b) {
        return new RegistryException.NotFound("no bucket '" + b + "' at " + where
                + " (check the name, the endpoint and the region)");
    }

    private <T> T call(String what, Supplier<T> request) throws IOException {
        try {
            return blocking(request);
        } catch (SdkException e) {
            throw failure(what, e);
        }
    }

    /**
     * Runs a blocking request. On a fork-join worker (pushes run on the hashing pool) it tells the
     * pool so, which then adds a spare worker: uploads wait on the network, not on the CPU. At
     * most {@link #COMPENSATED} requests are run that way at once (else every blocked worker
     * would start another, without bound); the rest simply block their worker.
     */
    private <T> T blocking(Supplier<T> request) {
        if (!(Thread.currentThread() instanceof ForkJoinWorkerThread) || !compensated.tryAcquire()) {
            return request.get();
        }
        try {
            var blocker = new ForkJoinPool.ManagedBlocker() {
                T result;
                boolean done;

                @Override
                public boolean block() {
                    result = request.get();
                    done = true;
                    return true;
                }

                @Override
                public boolean isReleasable() {
                    return done;
                }
            };
            try {
                ForkJoinPool.managedBlock(blocker);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw SdkClientException.create("interrupted", e);
            }
            return blocker.result;
        } finally {
            compensated.release();
        }
    }

    /** One piece of a parallel transfer. */
    private interface Piece {
        void run(int index) throws IOException;
    }

    /** Runs pieces 0..n-1 on up to {@code parallelism} transfer threads; the first failure stops the rest. */
    private void inParallel(int n, Piece piece) throws IOException {
        int workers = Math.min(n, tuning.parallelism());
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        List<Future<?>> running = new ArrayList<>(workers);
        for (int w = 0; w < workers; w++) {
            running.add(transfers.submit(() -> {
                for (int i; failed.get() == null && (i = next.getAndIncrement()) < n; ) {
                    try {
                        piece.run(i);
                    } catch (Throwable t) {
                        failed.compareAndSet(null, t);
                    }
                }
            }));
        }
        for (Future<?> f : running) {
            try {
                blocking(() -> {
                    try {
                        return f.get();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        failed.compareAndSet(null, new InterruptedIOException("interrupted during a transfer"));
                    } catch (ExecutionException e) {
                        failed.compareAndSet(null, e.getCause());
                    }
                    return null;
                });
            } catch (SdkClientException e) {
                failed.compareAndSet(null, e);
            }
        }
        Throwable t = failed.get();
        if (t instanceof IOException io) {
            throw io;
        }
        if (t instanceof SdkException se) {
            throw failure(uri(), se);
        }
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IOException(t);
        }
    }

    // ---------------------------------------------------------------- errors

    private static String code(S3Exception e) {
        return e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    }

    /** One clear line for a failed request on {@code what} (a URL); never a credential. */
    RegistryException failure(String what, SdkException e) {
        if (e instanceof S3Exception s) {
            String code = code(s);
            int status = s.statusCode();
            if ("NoSuchBucket".equals(code)) {
                return noBucket(bucketOf(what));
            }
            if ("NoSuchKey".equals(code) || status == 404) {
                return new RegistryException.NotFound(what + " does not exist");
            }
            if ("InvalidAccessKeyId".equals(code)) {
                return new RegistryException("access to " + what + " refused: " + where
                        + " does not know the access key in use (check AWS_ACCESS_KEY_ID, AWS_PROFILE or ~/.aws/credentials)", e);
            }
            if ("BadDigest".equals(code) || "InvalidDigest".equals(code) || "XAmzContentSHA256Mismatch".equals(code)) {
                return new RegistryException(where + " refused the content sent for " + what + ": it does not match the"
                        + " checksum it was hashed with (the file changed since it was hashed, or it was damaged on the way;"
                        + " hash and push again)", e);
            }
            if ("SignatureDoesNotMatch".equals(code)) {
                return new RegistryException("access to " + what + " refused: " + where
                        + " rejected the request signature (the secret key does not match the access key)", e);
            }
            if (status == 301 || "PermanentRedirect".equals(code) || "AuthorizationHeaderMalformed".equals(code)
                    || "IllegalLocationConstraintException".equals(code)) {
                String real = s.awsErrorDetails() == null ? null
                        : s.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("x-amz-bucket-region").orElse(null);
                return new RegistryException("bucket '" + bucketOf(what) + "' is not in region " + regionName
                        + (real != null ? ": it is in " + real + " (set AWS_REGION=" + real + ")" : " (set AWS_REGION)"), e);
            }
            if (status == 403 || "AccessDenied".equals(code)) {
                return new RegistryException("access denied to " + what + " at " + where
                        + ": the credentials in use lack permission (check the bucket policy, AWS_PROFILE or the IAM role)", e);
            }
            return new RegistryException("S3 request on " + what + " at " + where + " failed: "
                    + (code != null ? code + " (HTTP " + status + ")" : "HTTP " + status)
                    + (s.awsErrorDetails() != null && s.awsErrorDetails().errorMessage() != null
                    ? ": " + s.awsErrorDetails().errorMessage() : ""), e);
        }
        if (e instanceof ApiCallAttemptTimeoutException || e instanceof ApiCallTimeoutException
                || causedBy(e, SocketTimeoutException.class)) {
            return new RegistryException(where + " did not answer in time for " + what + " (after "
                    + tuning.maxAttempts() + " attempts)", e);
        }
        if (causedBy(e, UnknownHostException.class) || causedBy(e, ConnectException.class)
                || causedBy(e, NoRouteToHostException.class)) {
            return new RegistryException("cannot reach S3 at " + where + " for " + what
                    + " (check --endpoint, AWS_ENDPOINT_URL, the profile's endpoint_url and the network): " + describe(rootCause(e)), e);
        }
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (m.contains("Unable to load credentials")) {
            String missing = new AwsProfile(System::getProperty, System.getenv()).missingNamedProfile();
            if (missing != null) {
                return new RegistryException("no AWS credentials for " + what + ": " + missing, e);
            }
            return new RegistryException("no AWS credentials for " + what + ": set AWS_ACCESS_KEY_ID and "
                    + "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or configure ~/.aws/credentials", e);
        }
        return new RegistryException("S3 request on " + what + " at " + where + " failed: " + firstLine(m), e);
    }

    private String bucketOf(String what) {
        if (what.startsWith("s3://")) {
            int slash = what.indexOf('/', 5);
            return slash < 0 ? what.substring(5) : what.substring(5, slash);
        }
        return bucket;
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static Throwable rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m != null ? ": " + firstLine(m) : "");
    }

    private static String firstLine(String m) {
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    @Override
    public void close() {
        if (log.isDebugEnabled()) {
            log.debug("{}: requests sent {}", uri(), requestCounts());
        }
        try {
            record.save();
        } catch (IOException e) {
            log.warn("could not save what {} holds ({}); the next push will check with HEAD requests", uri(), e.getMessage());
        }
        transfers.shutdownNow();
        s3.close();
    }

    @Override
    public String toString() {
        return uri();
    }

    /** The chosen profile of the config and credentials files, read once and only when asked. */
    static final class AwsProfile implements S3Settings.ProfileSource {
        private final java.util.function.Function<String, String> property;
        private final Map<String, String> env;
        private software.amazon.awssdk.profiles.ProfileFile file;
        private software.amazon.awssdk.profiles.Profile profile;

        AwsProfile(java.util.function.Function<String, String> property, Map<String, String> env) {
            this.property = property;
            this.env = env;
        }

        @Override
        public String get(String name) {
            load();
            return profile == null ? null : profile.property(name).orElse(null);
        }

        @Override
        public String servicesEndpoint() {
            load();
            if (profile == null) {
                return null;
            }
            return profile.property("services")
                    .flatMap(name -> file.getSection("services", name))
                    .flatMap(s -> s.property("s3.endpoint_url"))
                    .orElse(null);
        }

        /**
         * When a profile is named ({@code AWS_PROFILE}, {@code aws.profile}) that neither file has,
         * says so, naming the files (the SDK then silently tries every other source of
         * credentials, and its message names none); else null.
         */
        String missingNamedProfile() {
            String name = S3Settings.first(property.apply("aws.profile"), env.get("AWS_PROFILE"));
            if (name == null) {
                return null;
            }
            load();
            if (profile != null) {
                return null;
            }
            return "the profile '" + name + "' (" + (property.apply("aws.profile") != null ? "aws.profile" : "AWS_PROFILE")
                    + ") is in neither " + fileSetting("aws.configFile", "AWS_CONFIG_FILE", "config") + " nor "
                    + fileSetting("aws.sharedCredentialsFile", "AWS_SHARED_CREDENTIALS_FILE", "credentials")
                    + " (check the name, AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE)";
        }

        private void load() {
            if (file != null) {
                return;
            }
            software.amazon.awssdk.profiles.ProfileFile.Aggregator all = software.amazon.awssdk.profiles.ProfileFile.aggregator();
            // As the SDK aggregates them: the credentials file's values win over the config file's.
            add(all, fileSetting("aws.sharedCredentialsFile", "AWS_SHARED_CREDENTIALS_FILE", "credentials"),
                    software.amazon.awssdk.profiles.ProfileFile.Type.CREDENTIALS);
            add(all, fileSetting("aws.configFile", "AWS_CONFIG_FILE", "config"), software.amazon.awssdk.profiles.ProfileFile.Type.CONFIGURATION);
            file = all.build();
            String name = S3Settings.first(property.apply("aws.profile"), env.get("AWS_PROFILE"));
            profile = file.profile(name == null ? "default" : name).orElse(null);
        }

        private static void add(software.amazon.awssdk.profiles.ProfileFile.Aggregator all, java.nio.file.Path p, software.amazon.awssdk.profiles.ProfileFile.Type type) {
            if (p == null || !java.nio.file.Files.isRegularFile(p)) {
                return;
            }
            try {
                all.addFile(software.amazon.awssdk.profiles.ProfileFile.builder().content(p).type(type).build());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("cannot read the AWS " + (type == software.amazon.awssdk.profiles.ProfileFile.Type.CREDENTIALS
                        ? "credentials" : "config") + " file " + p + ": " + e.getMessage(), e);
            }
        }

        private java.nio.file.Path fileSetting(String prop, String var, String name) {
            String v = S3Settings.first(property.apply(prop), env.get(var));
            String home = java.util.Optional.ofNullable(S3Settings.first(env.get("HOME"))).orElse(System.getProperty("user.home"));
            if (v == null) {
                return home == null ? null : java.nio.file.Paths.get(home, ".aws", name);
            }
            if (home != null && (v.equals("~") || v.startsWith("~/"))) {
                return java.nio.file.Paths.get(home + v.substring(1));
            }
            return java.nio.file.Paths.get(v);
        }
    }
}
