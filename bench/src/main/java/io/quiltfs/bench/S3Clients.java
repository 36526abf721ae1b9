package io.quiltfs.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4FamilyHttpSigner;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Which AWS SDK client to build the S3 registry on (issue 4), for bench/s3-clients.sh. Each run
 * is one JVM, one client and one workload; the timed phase starts after the client is built and
 * the inputs are hashed (the product has every SHA-256 from hashing before it uploads), and the
 * line printed is "wall_seconds process_cpu_seconds count".
 *
 * <ul>
 *   <li>{@code puts CLIENT CONC DIR BUCKET PREFIX}: one PUT per file under DIR (key
 *       PREFIX/relative path), {@code If-None-Match: *} and {@code x-amz-checksum-sha256}
 *       precomputed, as S3Registry does, CONC in flight ({@code -Dputs.warm=true}: the same PUTs
 *       once before, untimed, under PREFIX-warm, to see the cost on JIT-compiled code);
 *   <li>{@code get CLIENT N BUCKET KEY SIZE}: the object in 8 MiB ranged GETs, N in flight, into
 *       a sink that discards the bytes (the server's delivery, no file write; {@code -Dget.warm=true}
 *       reads it once before, untimed);
 *   <li>{@code mpu CLIENT N BUCKET KEY FILE}: FILE as a multipart upload of 8 MiB parts, each
 *       with its SHA-256, N parts in flight (CLIENT {@code crt-auto}: one putObject that the CRT
 *       splits itself into 8 MiB parts, N in flight, without checksums);
 *   <li>{@code presign BUCKET KEY}: prints a presigned GET URL (for curl, untimed).
 * </ul>
 *
 * CLIENT is {@code sync} (S3Client on Apache5, configured like S3Registry, with its signer that
 * signs checksum-pinned bodies as UNSIGNED-PAYLOAD on http), {@code netty} (S3AsyncClient on the
 * Netty client, same signer and checksum settings) or {@code crt} (S3AsyncClient.crtBuilder(),
 * which signs and checksums in native code). The endpoint and keys come from AWS_ENDPOINT_URL,
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (bench/s3proxy.sh exports them).
 */
public final class S3Clients {
    static final long RANGE = 8L << 20;
    private static final String CHECKSUM_SHA256 = "x-amz-checksum-sha256";

    private S3Clients() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        if (mode.equals("presign")) {
            try (S3Presigner p = S3Presigner.builder().region(Region.US_EAST_1).credentialsProvider(credentials())
                    .endpointOverride(endpoint())
                    .serviceConfiguration(software.amazon.awssdk.services.s3.S3Configuration.builder()
                            .pathStyleAccessEnabled(true).build()).build()) {
                System.out.println(p.presignGetObject(r -> r.signatureDuration(Duration.ofHours(2))
                        .getObjectRequest(g -> g.bucket(args[1]).key(args[2]))).url());
            }
            return;
        }
        String client = args[1];
        int conc = Integer.parseInt(args[2]);
        boolean auto = client.equals("crt-auto");
        try (Side side = Side.open(auto ? "crt" : client, conc)) {
            switch (mode) {
                case "puts" -> puts(side, conc, Paths.get(args[3]), args[4], args[5]);
                case "get" -> get(side, conc, args[3], args[4], Long.parseLong(args[5]));
                case "mpu" -> mpu(side, conc, auto, args[3], args[4], Paths.get(args[5]));
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
        }
    }

    // ---------------------------------------------------------------- workloads

    private static void puts(Side side, int conc, Path dir, String bucket, String prefix) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        List<String> sums = new ArrayList<>(files.size());
        for (Path f : files) {
            sums.add(base64(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f))));
        }
        if (Boolean.getBoolean("puts.warm")) {
            // Steady state: the same PUTs once under another prefix first, untimed, so that the
            // timed ones run on JIT-compiled code (a push runs in a fresh JVM, so this is a floor).
            putAll(side, conc, dir, files, sums, bucket, prefix + "-warm");
        }
        Timer t = Timer.start();
        putAll(side, conc, dir, files, sums, bucket, prefix);
        t.print(files.size());
    }

    private static void putAll(Side side, int conc, Path dir, List<Path> files, List<String> sums, String bucket,
                               String prefix) throws Exception {
        Window w = new Window(conc);
        for (int i = 0; i < files.size(); i++) {
            Path f = files.get(i);
            PutObjectRequest req = PutObjectRequest.builder().bucket(bucket)
                    .key(prefix + "/" + dir.relativize(f).toString().replace('\\', '/'))
                    .contentLength(Files.size(f)).checksumSHA256(sums.get(i)).ifNoneMatch("*").build();
            w.submit(() -> side.put(req, f));
        }
        w.await();
    }

    private static void get(Side side, int conc, String bucket, String key, long size) throws Exception {
        if (Boolean.getBoolean("get.warm")) {
            getAll(side, conc, bucket, key, size); // untimed: JIT-compiled code for the timed read
        }
        Timer t = Timer.start();
        long total = getAll(side, conc, bucket, key, size);
        t.print(total);
    }

    private static long getAll(Side side, int conc, String bucket, String key, long size) throws Exception {
        Window w = new Window(conc);
        long[] total = new long[1];
        List<CompletableFuture<Long>> all = new ArrayList<>();
        for (long off = 0; off < size; off += RANGE) {
            long end = Math.min(size, off + RANGE) - 1;
            GetObjectRequest req = GetObjectRequest.builder().bucket(bucket).key(key)
                    .range("bytes=" + off + "-" + end).build();
            all.add(w.submit(() -> side.getDiscard(req)));
        }
        w.await();
        for (CompletableFuture<Long> f : all) {
            total[0] += f.join();
        }
        if (total[0] != size) {
            throw new IllegalStateException("read " + total[0] + " bytes, expected " + size);
        }
        return total[0];
    }

    private static void mpu(Side side, int conc, boolean auto, String bucket, String key, Path file) throws Exception {
        long size = Files.size(file);
        if (auto) {
            // crt-auto: one putObject; the CRT splits it into 8 MiB parts itself.
            Timer t = Timer.start();
            side.crt.putObject(r -> r.bucket(bucket).key(key).contentLength(size), AsyncRequestBody.fromFile(file)).join();
            t.print(size);
            return;
        }
        int parts = (int) ((size + RANGE - 1) / RANGE);
        String[] sums = new String[parts];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocateDirect((int) RANGE);
            for (int i = 0; i < parts; i++) {
                buf.clear();
                long off = i * RANGE;
                while (buf.position() < Math.min(RANGE, size - off) && ch.read(buf, off + buf.position()) >= 0) {
                    // fill
                }
                buf.flip();
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                md.update(buf);
                sums[i] = base64(md.digest());
            }
        }
        Timer t = Timer.start();
        String id = side.createUpload(bucket, key);
        Window w = new Window(conc);
        List<CompletableFuture<String>> etags = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            long off = i * RANGE;
            long len = Math.min(RANGE, size - off);
            UploadPartRequest req = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(id)
                    .partNumber(i + 1).contentLength(len).checksumSHA256(sums[i]).build();
            etags.add(w.submit(() -> side.uploadPart(req, file, off, len)));
        }
        w.await();
        List<CompletedPart> done = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            done.add(CompletedPart.builder().partNumber(i + 1).eTag(etags.get(i).join()).checksumSHA256(sums[i]).build());
        }
        side.complete(bucket, key, id, done);
        t.print(size);
    }

    // ---------------------------------------------------------------- the clients

    /** One client under test, behind the same four operations. */
    static final class Side implements AutoCloseable {
        final S3Client sync;
        final S3AsyncClient async;
        final S3AsyncClient crt;
        final ExecutorService pool;

        private Side(S3Client sync, S3AsyncClient async, S3AsyncClient crt, ExecutorService pool) {
            this.sync = sync;
            this.async = async;
            this.crt = crt;
            this.pool = pool;
        }

        static Side open(String client, int conc) {
            int n = Math.max(conc, 1);
            return switch (client) {
                // As S3Registry builds it: Apache5, its timeouts and pool, its checksum settings and
                // signer, 5 attempts, 5 min attempt timeout.
                case "sync" -> new Side(S3Client.builder().region(Region.US_EAST_1).credentialsProvider(credentials())
                        .httpClientBuilder(Apache5HttpClient.builder().socketTimeout(Duration.ofSeconds(30))
                                .connectionTimeout(Duration.ofSeconds(10)).maxConnections(Math.max(64, n)))
                        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_SUPPORTED)
                        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                        .putAuthScheme(new BodyPinningAuthScheme())
                        .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(5))
                                .apiCallAttemptTimeout(Duration.ofMinutes(5)))
                        .endpointOverride(endpoint()).forcePathStyle(true).build(),
                        null, null, Executors.newFixedThreadPool(n));
                case "netty" -> new Side(null, S3AsyncClient.builder().region(Region.US_EAST_1).credentialsProvider(credentials())
                        .httpClientBuilder(NettyNioAsyncHttpClient.builder().maxConcurrency(Math.max(64, n))
                                .readTimeout(Duration.ofSeconds(30)).connectionTimeout(Duration.ofSeconds(10)))
                        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_SUPPORTED)
                        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                        .putAuthScheme(new BodyPinningAuthScheme())
                        .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(5))
                                .apiCallAttemptTimeout(Duration.ofMinutes(5)))
                        .endpointOverride(endpoint()).forcePathStyle(true).build(), null, null);
                // The CRT signs in native code (the SDK's auth scheme is not used); it is told not to
                // add checksums of its own, so a request carries only the precomputed SHA-256.
                case "crt" -> new Side(null, null, S3AsyncClient.crtBuilder().region(Region.US_EAST_1)
                        .credentialsProvider(credentials()).endpointOverride(endpoint()).forcePathStyle(true)
                        .maxConcurrency(n).minimumPartSizeInBytes(RANGE)
                        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                        .build(), null);
                default -> throw new IllegalArgumentException("client is sync, netty or crt, not " + client);
            };
        }

        private S3AsyncClient asyncClient() {
            return crt != null ? crt : async;
        }

        CompletableFuture<?> put(PutObjectRequest req, Path f) {
            if (sync != null) {
                return CompletableFuture.supplyAsync(() -> sync.putObject(req, RequestBody.fromFile(f)), pool);
            }
            return asyncClient().putObject(req, AsyncRequestBody.fromFile(f));
        }

        CompletableFuture<Long> getDiscard(GetObjectRequest req) {
            if (sync != null) {
                return CompletableFuture.supplyAsync(() -> {
                    byte[] buf = new byte[256 << 10];
                    long n = 0;
                    try (InputStream in = sync.getObject(req)) {
                        for (int r; (r = in.read(buf)) >= 0; ) {
                            n += r;
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    return n;
                }, pool);
            }
            return asyncClient().getObject(req, new Discard());
        }

        String createUpload(String bucket, String key) {
            if (sync != null) {
                return sync.createMultipartUpload(r -> r.bucket(bucket).key(key)
                        .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.SHA256)).uploadId();
            }
            return asyncClient().createMultipartUpload(r -> r.bucket(bucket).key(key)
                    .checksumAlgorithm(software.amazon.awssdk.services.s3.model.ChecksumAlgorithm.SHA256)).join().uploadId();
        }

        CompletableFuture<String> uploadPart(UploadPartRequest req, Path file, long off, long len) {
            if (sync != null) {
                return CompletableFuture.supplyAsync(() -> sync.uploadPart(req, RequestBody.fromContentProvider(
                        () -> slice(file, off, len), len, "application/octet-stream")).eTag(), pool);
            }
            return asyncClient().uploadPart(req, AsyncRequestBody.fromFile(c -> c.path(file).position(off).numBytesToRead(len)))
                    .thenApply(r -> r.eTag());
        }

        void complete(String bucket, String key, String id, List<CompletedPart> parts) {
            if (sync != null) {
                sync.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(id).multipartUpload(m -> m.parts(parts)));
            } else {
                asyncClient().completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(id)
                        .multipartUpload(m -> m.parts(parts))).join();
            }
        }

        @Override
        public void close() {
            if (sync != null) {
                sync.close();
            }
            if (asyncClient() != null) {
                asyncClient().close();
            }
            if (pool != null) {
                pool.shutdownNow();
            }
        }
    }

    /** A slice of a file as a stream, as S3Registry reads a part. */
    private static InputStream slice(Path file, long off, long len) {
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
            ch.position(off);
            InputStream in = Channels.newInputStream(ch);
            return new java.io.FilterInputStream(in) {
                long left = len;

                @Override
                public int read(byte[] b, int o, int l) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int r = super.read(b, o, (int) Math.min(l, left));
                    if (r > 0) {
                        left -= r;
                    }
                    return r;
                }

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }
            };
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Counts and drops the body of a GET. */
    static final class Discard implements AsyncResponseTransformer<GetObjectResponse, Long> {
        private volatile CompletableFuture<Long> result;

        @Override
        public CompletableFuture<Long> prepare() {
            result = new CompletableFuture<>();
            return result;
        }

        @Override
        public void onResponse(GetObjectResponse response) {
        }

        @Override
        public void onStream(SdkPublisher<ByteBuffer> publisher) {
            CompletableFuture<Long> cf = result;
            publisher.subscribe(new Subscriber<ByteBuffer>() {
                private long n;

                @Override
                public void onSubscribe(Subscription s) {
                    s.request(Long.MAX_VALUE);
                }

                @Override
                public void onNext(ByteBuffer b) {
                    n += b.remaining();
                }

                @Override
                public void onError(Throwable t) {
                    cf.completeExceptionally(t);
                }

                @Override
                public void onComplete() {
                    cf.complete(n);
                }
            });
        }

        @Override
        public void exceptionOccurred(Throwable error) {
            CompletableFuture<Long> cf = result;
            if (cf != null) {
                cf.completeExceptionally(error);
            }
        }
    }

    /** At most N operations in flight; remembers the first failure. */
    static final class Window {
        private final Semaphore slots;
        private final int n;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Window(int n) {
            this.n = Math.max(n, 1);
            this.slots = new Semaphore(this.n);
        }

        <T> CompletableFuture<T> submit(Supplier<CompletableFuture<T>> op) throws InterruptedException {
            slots.acquire();
            if (failure.get() != null) {
                throw new IllegalStateException(failure.get());
            }
            CompletableFuture<T> f = op.get();
            f.whenComplete((v, e) -> {
                if (e != null) {
                    failure.compareAndSet(null, e);
                }
                slots.release();
            });
            return f;
        }

        void await() throws InterruptedException {
            slots.acquire(n);
            if (failure.get() != null) {
                throw new IllegalStateException(failure.get());
            }
        }
    }

    /** Wall clock and this process's CPU (every thread, native ones too) since start. */
    record Timer(long wall, long cpu) {
        static Timer start() {
            return new Timer(System.nanoTime(), cpuNanos());
        }

        void print(long count) {
            System.out.printf("%.3f %.3f %d%n", (System.nanoTime() - wall) / 1e9, (cpuNanos() - cpu) / 1e9, count);
        }

        private static long cpuNanos() {
            return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        }
    }

    private static URI endpoint() {
        return URI.create(System.getenv("AWS_ENDPOINT_URL"));
    }

    private static StaticCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(System.getenv("AWS_ACCESS_KEY_ID"),
                System.getenv("AWS_SECRET_ACCESS_KEY")));
    }

    private static String base64(byte[] digest) {
        return Base64.getEncoder().encodeToString(digest);
    }

    // ---------------------------------------------------------------- S3Registry's signer

    /** SigV4 with {@link BodyPinningSigner}, as S3Registry installs it. */
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
     * A copy of S3Registry's signer (there it is private): a body pinned by
     * {@code x-amz-checksum-sha256} is signed as UNSIGNED-PAYLOAD on http too, so the SDK does not
     * hash it again; here the async path does the same, for the Netty client.
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
            SignedRequest headers = v4.sign(request.copy(b -> b.payload(null)
                    .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                    .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, false)));
            return SignedRequest.builder().request(headers.request()).payload(body.get()).build();
        }

        @Override
        public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
            var body = request.payload();
            if (body.isEmpty() || "https".equals(request.request().protocol())
                    || request.request().firstMatchingHeader(CHECKSUM_SHA256).isEmpty()) {
                return v4.signAsync(request);
            }
            return v4.signAsync(request.copy(b -> b.payload(null)
                            .putProperty(AwsV4FamilyHttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                            .putProperty(AwsV4FamilyHttpSigner.CHUNK_ENCODING_ENABLED, false)))
                    .thenApply(s -> AsyncSignedRequest.builder().request(s.request()).payload(body.get()).build());
        }
    }
}
