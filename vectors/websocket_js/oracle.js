// Sign each case on stdin (JSON lines) with the JavaScript clients AWS ships, print one JSON line per case.
// kinesisvideo: amazon-kinesis-video-streams-webrtc's SigV4RequestSigner.getSignedURL, as SignalingClient calls it.
// appsync: @aws-amplify/core's signRequest over AWS_APPSYNC_REALTIME_HEADERS, as api-graphql's awsRealTimeIAMHeader.
// eventstream: @smithy/signature-v4's signMessage, as the JS SDK's event-stream signer chains each message (the
// Transcribe stream that follows the presigned handshake), the empty end frame included.
const readline = require('readline');
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
