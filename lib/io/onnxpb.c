/*
 * onnxpb.c - the protobuf-c code of ONNX's onnx.proto, generated at build
 * time by protoc-c into build/gen/ (see the Makefile) and compiled here, so
 * every build of the library (normal, sanitized, fuzz) has it. Generated
 * code is not held to the project's warnings.
 */
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wundef"
#include "gen/onnx.pb-c.c"
