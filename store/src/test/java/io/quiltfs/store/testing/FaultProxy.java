package io.quiltfs.store.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fault-injecting HTTP proxy on loopback between an S3 client and a real server. Each request
 * travels on its own upstream connection ({@code Connection: close} is added; no signed header
 * changes), so faults apply per request: an error status instead of forwarding, a response
 * body dropped or stalled after N bytes, or one body byte flipped. Rules match on method and a
 * substring of the request target, and fire a given number of times.
 */
public final class FaultProxy implements AutoCloseable {
    /** What to do to a matching request. */
    public enum Kind { STATUS, DROP_BODY, STALL_BODY, CORRUPT_BODY }

    /** A fault and when it applies; {@code times < 0}: always. */
    public static final class Rule {
        final Kind kind;
        final String method;
        final String target;
        final int status;
        final long afterBytes;
        final Duration stall;
        final String code;
        final String headers;
        final AtomicInteger left;
        final AtomicInteger fired = new AtomicInteger();

        Rule(Kind kind, String method, String target, int status, long afterBytes, Duration stall, int times) {
            this(kind, method, target, status, afterBytes, stall, times, status == 503 ? "SlowDown" : "InternalError", "");
        }

        Rule(Kind kind, String method, String target, int status, long afterBytes, Duration stall, int times,
             String code, String headers) {
            this.code = code;
            this.headers = headers;
            this.kind = kind;
            this.method = method;
            this.target = target;
            this.status = status;
            this.afterBytes = afterBytes;
            this.stall = stall;
            this.left = new AtomicInteger(times);
        }

        boolean take(String m, String t) {
            if ((method != null && !method.equals(m)) || (target != null && !t.contains(target))) {
                return false;
            }
            while (true) {
                int n = left.get();
                if (n == 0) {
                    return false;
                }
                if (n < 0 || left.compareAndSet(n, n - 1)) {
                    fired.incrementAndGet();
                    return true;
                }
            }
        }

        /** How many times this rule fired. */
        public int fired() {
            return fired.get();
        }
    }

    private final ServerSocket listener;
    private final int upstreamPort;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();

    /** A request that was forwarded, and how many response body bytes went back to the client. */
    public record Exchange(String method, String target, long bodyBytes) {
    }
    private final Thread acceptor;

    public FaultProxy(int upstreamPort) throws IOException {
        this.upstreamPort = upstreamPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "fault-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + listener.getLocalPort();
    }

    /** Requests seen so far. */
    public int requests() {
        return requests.get();
    }

    /** The forwarded requests whose responses ended, in the order they ended. */
    public List<Exchange> exchanges() {
        return List.copyOf(exchanges);
    }

    /** Response body bytes sent back for requests of {@code method} whose target contains {@code target}. */
    public long bodyBytes(String method, String target) {
        return exchanges.stream().filter(e -> e.method().equals(method) && e.target().contains(target))
                .mapToLong(Exchange::bodyBytes).sum();
    }

    public Rule status(int status, String method, String target, int times) {
        return add(new Rule(Kind.STATUS, method, target, status, 0, null, times));
    }

    /** Drops the connection after {@code afterBytes} of the response body ({@code < 0}: before the response). */
    /** Answers with an S3 error: {@code status}, the XML {@code code}, and extra header lines. */
    public Rule error(int status, String code, String headers, String method, String target, int times) {
        return add(new Rule(Kind.STATUS, method, target, status, 0, null, times, code, headers));
    }

    public Rule dropBody(String method, String target, long afterBytes, int times) {
        return add(new Rule(Kind.DROP_BODY, method, target, 0, afterBytes, null, times));
    }

    public Rule stallBody(String method, String target, long afterBytes, Duration stall, int times) {
        return add(new Rule(Kind.STALL_BODY, method, target, 0, afterBytes, stall, times));
    }

    public Rule corruptBody(String method, String target, long atByte, int times) {
        return add(new Rule(Kind.CORRUPT_BODY, method, target, 0, atByte, null, times));
    }

    private Rule add(Rule r) {
        rules.add(r);
        return r;
    }

    public void clear() {
        rules.clear();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket c = listener.accept();
                open.add(c);
                Thread t = new Thread(() -> serve(c), "fault-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream cin = client.getInputStream();
            byte[] head = readHead(cin);
            if (head == null) {
                return;
            }
            requests.incrementAndGet();
            String text = new String(head, StandardCharsets.ISO_8859_1);
            String[] requestLine = text.substring(0, text.indexOf("\r\n")).split(" ");
            String method = requestLine[0];
            String target = requestLine.length > 1 ? requestLine[1] : "";
            Rule rule = null;
            for (Rule r : rules) {
                if (r.take(method, target)) {
                    rule = r;
                    break;
                }
            }
            OutputStream cout = client.getOutputStream();
            if (rule != null && rule.kind == Kind.STATUS) {
                String code = rule.code;
                byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code
                        + "</Code><Message>injected fault</Message></Error>").getBytes(StandardCharsets.UTF_8);
                cout.write(("HTTP/1.1 " + rule.status + " Injected\r\nContent-Type: application/xml\r\n"
                        + rule.headers + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                cout.write(body);
                cout.flush();
                client.shutdownOutput();
                drainBriefly(cin);
                return;
            }
            try (Socket up = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
                open.add(up);
                OutputStream uout = up.getOutputStream();
                uout.write(withConnectionClose(text).getBytes(StandardCharsets.ISO_8859_1));
                uout.flush();
                Thread body = new Thread(() -> {
                    try {
                        cin.transferTo(uout);
                    } catch (IOException ignored) {
                        // the exchange ended
                    }
                }, "fault-proxy-body");
                body.setDaemon(true);
                body.start();
                long sent = relayResponse(up.getInputStream(), cout, rule);
                exchanges.add(new Exchange(method, target, sent));
            } finally {
                open.remove(client);
            }
        } catch (IOException | RuntimeException ignored) {
            // a dropped exchange is the point of this class
        }
    }

    /** Relays the response; the body bytes sent to the client. */
    private long relayResponse(InputStream uin, OutputStream cout, Rule rule) throws IOException {
        byte[] head = readHead(uin);
        if (head == null || (rule != null && rule.kind == Kind.DROP_BODY && rule.afterBytes < 0)) {
            return 0; // the server did the work; the client never hears of it
        }
        cout.write(head);
        long sent = 0;
        byte[] buf = new byte[64 << 10];
        for (int n; (n = uin.read(buf)) >= 0; ) {
            if (rule != null && rule.kind != Kind.CORRUPT_BODY && sent + n > rule.afterBytes) {
                int keep = (int) (rule.afterBytes - sent);
                cout.write(buf, 0, keep);
                cout.flush();
                if (rule.kind == Kind.STALL_BODY) {
                    try {
                        Thread.sleep(rule.stall.toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return sent + keep; // closing both sockets drops the connection mid-body
            }
            if (rule != null && rule.kind == Kind.CORRUPT_BODY && sent <= rule.afterBytes && rule.afterBytes < sent + n) {
                buf[(int) (rule.afterBytes - sent)] ^= 0x55;
            }
            try {
                cout.write(buf, 0, n);
            } catch (IOException clientLeft) {
                return sent; // the client closed its end (it stopped reading)
            }
            sent += n;
        }
        cout.flush();
        return sent;
    }

    private static String withConnectionClose(String head) {
        StringBuilder sb = new StringBuilder();
        for (String line : head.split("\r\n")) {
            if (line.isEmpty() || line.toLowerCase(Locale.ROOT).startsWith("connection:")) {
                continue;
            }
            sb.append(line).append("\r\n");
        }
        return sb.append("Connection: close\r\n\r\n").toString();
    }

    /** Bytes up to and including the blank line; null on EOF before any byte. */
    private static byte[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                return out.size() == 0 ? null : out.toByteArray();
            }
            out.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                    : (b == '\r' ? 1 : 0);
        }
        return out.toByteArray();
    }

    private static void drainBriefly(InputStream in) {
        try {
            byte[] buf = new byte[64 << 10];
            long until = System.nanoTime() + 200_000_000L;
            while (System.nanoTime() < until && in.available() > 0 && in.read(buf) >= 0) {
                // discard the request body the client may still be sending
            }
        } catch (IOException ignored) {
            // the client went away
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
