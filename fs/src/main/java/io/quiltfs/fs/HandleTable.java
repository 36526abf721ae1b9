package io.quiltfs.fs;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The open files of a mount by handle number: an atomic counter and a concurrent map. */
final class HandleTable<T> {
    private final AtomicLong next = new AtomicLong(1);
    private final ConcurrentHashMap<Long, T> open = new ConcurrentHashMap<>();

    long add(T value) {
        long h = next.getAndIncrement();
        open.put(h, value);
        return h;
    }

    T get(long handle) throws FsException {
        T v = open.get(handle);
        if (v == null) {
            throw new FsException(Errno.EBADF, "no open file with handle " + handle);
        }
        return v;
    }

    T remove(long handle) {
        return open.remove(handle);
    }

    /**
     * Replaces what an open handle holds, only if it still holds {@code expected} (it may be
     * closed meanwhile: a close takes its handle out without the tree's lock). Whether it did.
     */
    boolean replace(long handle, T expected, T value) {
        return open.replace(handle, expected, value);
    }

    /** Every open handle with what it holds. */
    void forEach(java.util.function.BiConsumer<Long, T> action) {
        open.forEach(action);
    }

    void forEach(java.util.function.Consumer<T> action) {
        open.values().forEach(action);
    }

    int size() {
        return open.size();
    }
}
