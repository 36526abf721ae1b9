package io.quiltfs.store.json;

import com.fasterxml.jackson.core.io.schubfach.DoubleToDecimal;
import java.math.BigDecimal;

/**
 * Formats a double the way Python's {@code repr} does: the shortest digits that round-trip
 * (Schubfach, as in Jackson; Java 17's {@code Double.toString} is not always shortest), fixed
 * notation with a {@code .0} when the decimal exponent is in [-4, 16), else {@code 1e-05} /
 * {@code 1.5e+16} form.
 */
public final class PyFloat {
    private PyFloat() {
    }

    public static String repr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (Double.doubleToRawLongBits(d) < 0) ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(DoubleToDecimal.toString(d)).stripTrailingZeros();
        if (bd.precision() == 2) {
            // Java's algorithm never gives fewer than two digits; Python's repr may (5e-324).
            BigDecimal one = new BigDecimal(d).round(new java.math.MathContext(1, java.math.RoundingMode.HALF_EVEN));
            if (one.doubleValue() == d) {
                bd = one.stripTrailingZeros();
            }
        }
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // value = d.ddd * 10^exp
        StringBuilder sb = new StringBuilder(24);
        if (d < 0) {
            sb.append('-');
        }
        if (exp >= -4 && exp < 16) {
            if (exp < 0) {
                sb.append("0.");
                sb.append("0".repeat(-exp - 1));
                sb.append(digits);
            } else if (digits.length() <= exp + 1) {
                sb.append(digits);
                sb.append("0".repeat(exp + 1 - digits.length()));
                sb.append(".0");
            } else {
                sb.append(digits, 0, exp + 1).append('.').append(digits, exp + 1, digits.length());
            }
        } else {
            sb.append(digits.charAt(0));
            if (digits.length() > 1) {
                sb.append('.').append(digits, 1, digits.length());
            }
            sb.append('e').append(exp < 0 ? '-' : '+');
            int a = Math.abs(exp);
            if (a < 10) {
                sb.append('0');
            }
            sb.append(a);
        }
        return sb.toString();
    }
}
