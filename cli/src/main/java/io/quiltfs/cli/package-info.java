/**
 * The command line: parses arguments (picocli), calls store and fs, renders text or JSON, and
 * maps failures to one-line messages and exit codes in one place ({@link io.quiltfs.cli.Cli}).
 */
package io.quiltfs.cli;
