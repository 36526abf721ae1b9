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

    /** Replaces what an open handle holds. */
    void replace(long handle, T value) {
        open.replace(handle, value);
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
