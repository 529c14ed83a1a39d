#!/usr/bin/env python3
"""Streams a completion from Tandem's KServe v2 gRPC API (inference.GRPCInferenceService/ModelStreamInfer).

Generate the Python stubs from the repository's protos first (grpcio + grpcio-tools; on Debian
`apt-get install python3-grpcio python3-grpc-tools`, run with /usr/bin/python3):

    mkdir -p /tmp/kserve && python3 -m grpc_tools.protoc -I protocol/src/main/proto --python_out=/tmp/kserve \
        --grpc_python_out=/tmp/kserve grpc_service.proto model_config.proto
    PYTHONPATH=/tmp/kserve python3 docs/examples/kserve_stream.py localhost:8001 "Once upon a time"

Options: --max-tokens N (default 32), --temperature T (default 0), --chat (the prompt is a JSON array of
{"role", "content"} messages, rendered with the model's chat template), --api-key KEY.
"""
import argparse
import struct
import sys

import grpc
import grpc_service_pb2 as pb
import grpc_service_pb2_grpc as rpc


def text_of(response):
    """text_output as Triton sends it: raw_output_contents, a 4-byte little-endian length, then UTF-8 bytes."""
    raw = response.raw_output_contents[0]
    (length,) = struct.unpack_from("<I", raw, 0)
    return raw[4:4 + length].decode("utf-8")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("address")
    p.add_argument("prompt")
    p.add_argument("--model", default="tandem-fortune-5m", help="the served model (default: the bundled one)")
    p.add_argument("--max-tokens", type=int, default=32)
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--chat", action="store_true")
    p.add_argument("--api-key")
    a = p.parse_args()

    request = pb.ModelInferRequest(model_name=a.model, id="py-1")
    text_input = request.inputs.add(name="text_input", datatype="BYTES", shape=[1])
    text_input.contents.bytes_contents.append(a.prompt.encode("utf-8"))
    stream = request.inputs.add(name="stream", datatype="BOOL", shape=[1])
    stream.contents.bool_contents.append(True)
    request.parameters["max_tokens"].int64_param = a.max_tokens
    request.parameters["temperature"].double_param = a.temperature
    if a.chat:
        request.parameters["chat_template"].bool_param = True
    metadata = [("authorization", "Bearer " + a.api_key)] if a.api_key else None

    with grpc.insecure_channel(a.address) as channel:
        client = rpc.GRPCInferenceServiceStub(channel)
        for r in client.ModelStreamInfer(iter([request]), metadata=metadata, timeout=120):
            if r.error_message:
                sys.exit("error: " + r.error_message)
            sys.stdout.write(text_of(r.infer_response))
            sys.stdout.flush()
            if r.infer_response.parameters["triton_final_response"].bool_param:
                print("\n[finish_reason: %s]" % r.infer_response.parameters["finish_reason"].string_param)


if __name__ == "__main__":
    main()
