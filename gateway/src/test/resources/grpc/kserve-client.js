// An independent KServe v2 client (Node's @grpc/grpc-js + @grpc/proto-loader, nothing of Tandem's but the .proto):
// ModelInfer once, then ModelStreamInfer, for one prompt; prints what came back as one JSON line.
// usage: node kserve-client.js PROTO_DIR HOST:PORT MODEL PROMPT MAX_TOKENS
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [protoDir, address, model, prompt, maxTokens] = process.argv.slice(2);
const definition = protoLoader.loadSync('grpc_service.proto',
    {includeDirs: [protoDir], keepCase: true, longs: String, enums: String, defaults: true});
const inference = grpc.loadPackageDefinition(definition).inference;
const client = new inference.GRPCInferenceService(address, grpc.credentials.createInsecure());

function request(stream) {
  return {
    model_name: model,
    id: 'node-1',
    inputs: [
      {name: 'text_input', datatype: 'BYTES', shape: [1], contents: {bytes_contents: [Buffer.from(prompt, 'utf8')]}},
      {name: 'stream', datatype: 'BOOL', shape: [1], contents: {bool_contents: [stream]}},
    ],
    parameters: {max_tokens: {int64_param: maxTokens}, temperature: {double_param: 0}},
  };
}

// text_output as Triton sends it: raw_output_contents, a 4-byte little-endian length, then the UTF-8 bytes
function text(response) {
  const raw = response.raw_output_contents[0];
  const length = raw.readUInt32LE(0);
  if (length !== raw.length - 4) throw new Error('bad length prefix ' + length + ' for ' + raw.length + ' bytes');
  return raw.subarray(4).toString('utf8');
}

const deadline = () => new Date(Date.now() + 60000);

client.ModelInfer(request(false), {deadline: deadline()}, (err, response) => {
  if (err) {
    console.log(JSON.stringify({error: err.code + ' ' + err.details}));
    process.exit(1);
  }
  const whole = text(response);
  const call = client.ModelStreamInfer({deadline: deadline()});
  const pieces = [];
  let finals = 0;
  let errors = [];
  call.on('data', (r) => {
    if (r.error_message) errors.push(r.error_message);
    const infer = r.infer_response;
    pieces.push(text(infer));
    if (infer.parameters.triton_final_response && infer.parameters.triton_final_response.bool_param) finals++;
  });
  call.on('error', (e) => {
    console.log(JSON.stringify({error: e.code + ' ' + e.details}));
    process.exit(1);
  });
  call.on('end', () => {
    console.log(JSON.stringify({whole: whole, streamed: pieces.join(''), pieces: pieces.length, finals: finals, errors: errors}));
    client.close();
  });
  call.write(request(true));
  call.end();
});
