// Sign each case on stdin (JSON lines) with the JavaScript clients AWS ships, print one JSON line per case.
// kinesisvideo: amazon-kinesis-video-streams-webrtc's SigV4RequestSigner.getSignedURL, as SignalingClient calls it.
// appsync: @aws-amplify/core's signRequest over AWS_APPSYNC_REALTIME_HEADERS, as api-graphql's awsRealTimeIAMHeader.
// sigv4a-seed: aws-crt's aws_verify_sigv4a_signing (aws-c-auth) rebuilds the canonical request of an aws-chunked
// SigV4a upload and verifies our (deterministic) seed signature with the public key: `verified` is its answer.
// eventstream: @smithy/signature-v4's signMessage, as the JS SDK's event-stream signer chains each message (the
// Transcribe stream that follows the presigned handshake), the empty end frame included.
const readline = require('readline');
const crt = require('aws-crt');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const { SigV4RequestSigner } = require('amazon-kinesis-video-streams-webrtc');
const { signRequest } = require('@aws-amplify/core/internals/aws-client-utils');
const { AmplifyUrl } = require('@aws-amplify/core/internals/utils');
const { AWS_APPSYNC_REALTIME_HEADERS } = require(
    require.resolve('@aws-amplify/api-graphql').replace(/dist\/cjs\/.*$/, 'dist/cjs/Providers/constants.js'));

async function run(c) {
    const credentials = { accessKeyId: c.key, secretAccessKey: c.secret, sessionToken: c.token || undefined };
    const date = new Date(c.time);
    if (c.preset === 'sigv4a-seed') {
        const request = new crt.http.HttpRequest(c.method, c.path, new crt.http.HttpHeaders(c.headers));
        const config = {
            algorithm: crt.auth.AwsSigningAlgorithm.SigV4Asymmetric,
            signature_type: crt.auth.AwsSignatureType.HttpRequestViaHeaders,
            provider: crt.auth.AwsCredentialsProvider.newStatic(c.key, c.secret), region: c.region,
            service: 's3', date: date, use_double_uri_encode: false, should_normalize_uri_path: false,
            signed_body_value: c.payload, signed_body_header: crt.auth.AwsSignedBodyHeaderType.XAmzContentSha256,
        };
        try {  // it throws AWS_AUTH_SIGV4A_SIGNATURE_VALIDATION_FAILURE (or a canonical request mismatch) when it refuses
            return { verified: crt.auth.aws_verify_sigv4a_signing(request, config, c.canonical, c.signature, c.x, c.y) };
        } catch (err) {
            return { verified: false, error: String(err.code || err) };
        }
    }
    if (c.preset === 'eventstream') {
        const signer = new SignatureV4({ credentials, region: c.region, service: 'transcribe', sha256: Sha256 });
        const message = { headers: { ':date': { type: 'timestamp', value: date } }, body: Buffer.from(c.body, 'hex') };
        return { signature: (await signer.signMessage({ message, priorSignature: c.prior }, { signingDate: date })).signature };
    }
    if (c.preset === 'kinesisvideo') {
        const signer = new SigV4RequestSigner(c.region, credentials);
        return { url: await signer.getSignedURL(c.endpoint, c.params, date) };
    }
    const signed = signRequest({
        headers: { ...AWS_APPSYNC_REALTIME_HEADERS }, method: 'POST',
        url: new AmplifyUrl(`https://${c.endpoint}/graphql/connect`), body: '{}',
    }, { credentials, signingRegion: c.region, signingService: 'appsync', signingDate: date });
    return { header: JSON.stringify(signed.headers) };
}

(async () => {
    for await (const line of readline.createInterface({ input: process.stdin })) {
        if (line.trim()) console.log(JSON.stringify({ ...JSON.parse(line), ...(await run(JSON.parse(line))) }));
    }
})();
