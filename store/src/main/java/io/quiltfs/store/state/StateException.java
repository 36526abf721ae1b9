package io.quiltfs.store.state;

import java.io.IOException;

/** Local state that cannot be used as it is (a corrupt file, a missing package); says what to do. */
public final class StateException extends IOException {
    public StateException(String message) {
        super(message);
    }

    public StateException(String message, Throwable cause) {
        super(message, cause);
    }
}
