package io.quiltfs.cli;

import io.quiltfs.store.workflow.Progress;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress bar on a terminal: phase, files, bytes, rate and time left. Redraws at
 * most ten times a second; thread-safe (counters are atomic, drawing is synchronized).
 */
final class ProgressBar implements Progress {
    private final PrintStream err;
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private volatile String phase = "";
    private volatile long totalFiles;
    private volatile long totalBytes;
    private volatile long started;
    private long lastDraw;

    ProgressBar(PrintStream err) {
        this.err = err;
    }

    @Override
    public void begin(String phase, long files, long bytes) {
        this.phase = phase;
        this.totalFiles = files;
        this.totalBytes = bytes;
        this.files.set(0);
        this.bytes.set(0);
        this.started = System.nanoTime();
        draw(true);
    }

    @Override
    public void advance(long f, long b) {
        files.addAndGet(f);
        bytes.addAndGet(b);
        draw(false);
    }

    @Override
    public synchronized void end() {
        draw(true);
        err.print("\n");
        err.flush();
    }

    private synchronized void draw(boolean force) {
        long now = System.nanoTime();
        if (!force && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        long b = bytes.get();
        double secs = Math.max(1e-3, (now - started) / 1e9);
        double rate = b / secs;
        StringBuilder sb = new StringBuilder("\r\033[K");
        sb.append(phase).append(' ');
        if (totalBytes > 0) {
            int width = 24;
            int filled = (int) Math.min(width, width * b / totalBytes);
            sb.append('[').append("#".repeat(filled)).append(" ".repeat(width - filled)).append("] ");
        }
        sb.append(files.get());
        if (totalFiles >= 0) {
            sb.append('/').append(totalFiles);
        }
        sb.append(" files  ").append(human(b));
        if (totalBytes >= 0) {
            sb.append('/').append(human(totalBytes));
        }
        sb.append("  ").append(human((long) rate)).append("/s");
        if (totalBytes > 0 && rate > 0 && b < totalBytes) {
            long left = (long) ((totalBytes - b) / rate);
            sb.append("  ").append(left / 60).append('m').append(String.format("%02d", left % 60)).append("s left");
        }
        err.print(sb);
        err.flush();
    }

    static String human(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] u = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format("%.1f %s", v, u[i]);
    }
}
