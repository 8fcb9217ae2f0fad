/* mod_oauth_as: the names of our configuration directives, written once (as mod_ssl's and
 * mod_md's). The command table, every configuration message and every check use these, so a
 * name cannot drift apart from its messages. The names are a contract with every httpd.conf
 * (INTERFACE.md): never change one. Messages are built by string concatenation, e.g.
 * OAS_DIR_ISSUER ": '%s' is not an absolute URL". */
#ifndef OAS_DIRECTIVES_H
#define OAS_DIRECTIVES_H

/* server-wide */
#define OAS_DIR_ISSUER "OAuthASIssuer"
#define OAS_DIR_SIGNING_KEY "OAuthASSigningKey"
#define OAS_DIR_STORE "OAuthASStore"
#define OAS_DIR_STORE_SIZE "OAuthASStoreSize"
#define OAS_DIR_CODE_LIFETIME "OAuthASCodeLifetime"
#define OAS_DIR_REQUEST_URI_LIFE "OAuthASRequestURILifetime"
#define OAS_DIR_ID_TOKEN_LIFE "OAuthASIDTokenLifetime"
#define OAS_DIR_MAX_BODY "OAuthASMaxBody"
#define OAS_DIR_AUTHFAIL_LIMIT "OAuthASClientAuthFailureLimit"
#define OAS_DIR_RT_GRACE "OAuthASRefreshTokenGrace"
#define OAS_DIR_CLIENT_QUOTA "OAuthASClientQuota"
#define OAS_DIR_USER_QUOTA "OAuthASUserQuota"
#define OAS_DIR_ADDRESS_QUOTA "OAuthASAddressQuota"
#define OAS_DIR_CONSENT_LIFETIME "OAuthASConsentLifetime"
#define OAS_DIR_CONSENT_TEMPLATE "OAuthASConsentTemplate"
#define OAS_DIR_ACCOUNT_TEMPLATE "OAuthASAccountTemplate"
#define OAS_DIR_CLAIM "OAuthASClaim"
#define OAS_DIR_SCOPE_DESC "OAuthASScopeDescription"
#define OAS_DIR_ENDPOINT "OAuthASEndpoint"
#define OAS_DIR_CA_FILE "OAuthASCACertificateFile"
#define OAS_DIR_OUTBOUND_ALLOW "OAuthASOutboundAllow"
#define OAS_DIR_REGISTRATION "OAuthASRegistration"
#define OAS_DIR_REGISTRATION_TOKEN "OAuthASRegistrationToken"
#define OAS_DIR_REGISTRATION_AUDIENCE "OAuthASRegistrationAudience"
#define OAS_DIR_REGISTRATION_DEFAULTS "OAuthASRegistrationDefaults"
#define OAS_DIR_CIMD "OAuthASClientMetadataDocuments"
#define OAS_DIR_CLIENT_SIGNING_ALGS "OAuthASClientSigningAlgs"
#define OAS_DIR_MTLS_ALIAS "OAuthASMTLSAlias"
#define OAS_DIR_LOGOUT_TEMPLATE "OAuthASLogoutTemplate"
#define OAS_DIR_LOGOUT_URL "OAuthASLogoutURL" /* server-only */
#define OAS_DIR_SESSION_LIFETIME "OAuthASSessionLifetime"
#define OAS_DIR_LOGIN_URL "OAuthASLoginURL"

/* server-wide and inside blocks */
#define OAS_DIR_AT_LIFETIME "OAuthASAccessTokenLifetime"  /* also in client and resource */
#define OAS_DIR_RT_LIFETIME "OAuthASRefreshTokenLifetime" /* also in client */
#define OAS_DIR_REQUIRE_PAR "OAuthASRequirePAR"           /* also in client */
#define OAS_DIR_REQUEST_OBJECT "OAuthASRequestObject"    /* also in client */
#define OAS_DIR_DPOP "OAuthASDPoP"                        /* also in client */
#define OAS_DIR_DPOP_NONCE "OAuthASDPoPNonce"             /* also in client */
#define OAS_DIR_PROFILE "OAuthASProfile"                  /* also in client */

/* the blocks, as httpd names them (the '<' belongs to the name) */
#define OAS_DIR_CLIENT_BLOCK "<OAuthASClient"
#define OAS_DIR_RESOURCE_BLOCK "<OAuthASResource"
#define OAS_DIR_CLIENT "OAuthASClient"     /* in messages: <OAuthASClient id> */
#define OAS_DIR_RESOURCE "OAuthASResource" /* in messages: <OAuthASResource id> */
#define OAS_DIR_RESOURCE_ISSUER "OAuthASResourceIssuer"     /* <Location>: AuthType oauth-as */
#define OAS_DIR_RESOURCE_AUDIENCE "OAuthASResourceAudience" /* <Location>: AuthType oauth-as */

/* only inside blocks */
#define OAS_DIR_CLIENT_SECRET "OAuthASClientSecret"
#define OAS_DIR_REDIRECT_URI "OAuthASRedirectURI"
#define OAS_DIR_POST_LOGOUT_URI "OAuthASPostLogoutRedirectURI"
#define OAS_DIR_SCOPE "OAuthASScope" /* client and resource */
#define OAS_DIR_AUDIENCE "OAuthASAudience"
#define OAS_DIR_AUTH_METHOD "OAuthASAuthMethod"
#define OAS_DIR_GRANT_TYPE "OAuthASGrantType"
#define OAS_DIR_TOKEN_EXCHANGE "OAuthASTokenExchange"
#define OAS_DIR_REQUIRE_PKCE "OAuthASRequirePKCE"
#define OAS_DIR_CONSENT "OAuthASConsent"
#define OAS_DIR_RT_ROTATION "OAuthASRefreshTokenRotation"
#define OAS_DIR_CLIENT_NAME "OAuthASClientName"
#define OAS_DIR_CLIENT_JWKS "OAuthASClientJWKS"
#define OAS_DIR_ASSERTION_AUD "OAuthASAssertionAudience"
#define OAS_DIR_CERT_SUBJECT "OAuthASClientCertSubject"
#define OAS_DIR_CERT_SAN "OAuthASClientCertSAN"
#define OAS_DIR_CERT_CA "OAuthASClientCertCA"
#define OAS_DIR_CERT_BOUND "OAuthASCertBoundTokens"
#define OAS_DIR_INTROSPECTION "OAuthASIntrospection"
#define OAS_DIR_BACKCHANNEL_LOGOUT_URI "OAuthASBackchannelLogoutURI"
#define OAS_DIR_FRONTCHANNEL_LOGOUT_URI "OAuthASFrontchannelLogoutURI"
#define OAS_DIR_CORS_ORIGIN "OAuthASCORSOrigin" /* server-only */

#endif
