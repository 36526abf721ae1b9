package io.quiltfs.fs.fuse;

import jnr.ffi.Pointer;

/**
 * What quiltfs adds to libfuse2's INIT reply on its way to the kernel ({@link SessionLoop}
 * relays it): libfuse2 speaks protocol 7.19 and knows nothing of passthrough (7.40), which a
 * read-only mount asks for ({@link Passthrough}). Nothing else changes for the kernel: everything
 * newer than 7.19 is negotiated by flags libfuse2 does not set, and requests libfuse2 does not
 * know get {@code ENOSYS}, after which the kernel does without them.
 */
final class FuseInit {
    private static final int OUT_HEADER = 16;
    /** fuse_init_out as libfuse2 sends it (up to max_write) and as protocol 7.40 reads it. */
    private static final int LIBFUSE2_INIT_OUT = 24;
    private static final int INIT_OUT = 64;

    private FuseInit() {
    }

    /**
     * Amends the INIT reply ({@code len} bytes in {@code reply}, room for 80) to the kernel's
     * INIT request {@code req}; returns the reply's new length. A reply that is not a plain
     * success, or a kernel that does not offer passthrough, leaves it as it is.
     */
    static int amend(Pointer req, Pointer reply, int len, Passthrough passthrough) {
        if (len < OUT_HEADER + LIBFUSE2_INIT_OUT || reply.getInt(4) != 0 || reply.getInt(OUT_HEADER) != 7
                || passthrough == null || !Passthrough.offered(req)) {
            return len;
        }
        int o = OUT_HEADER;
        for (int i = Math.max(len, o + LIBFUSE2_INIT_OUT); i < o + INIT_OUT; i++) {
            reply.putByte(i, (byte) 0);
        }
        passthrough.accept(reply, o);
        reply.putInt(0, o + INIT_OUT);
        return o + INIT_OUT;
    }
}
