package slsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes returned by the emulator, as the service spells them.
const (
	codeProjectNotExist        = "ProjectNotExist"
	codeLogStoreNotExist       = "LogStoreNotExist"
	codeShardNotExist          = "ShardNotExist"
	codeInvalidCursor          = "InvalidCursor"
	codeParameterInvalid       = "ParameterInvalid"
	codeUnauthorized           = "Unauthorized"
	codeSignatureNotMatch      = "SignatureNotMatch"
	codeRequestTimeExpired     = "RequestTimeExpired"
	codeMissingDate            = "MissingDate"
	codeInvalidDateFormat      = "InvalidDateFormat"
	codeMissingAPIVersion      = "MissingAPIVersion"
	codeInvalidAPIVersion      = "InvalidAPIVersion"
	codeMissingSignatureMethod = "MissingSignatureMethod"
	codeInvalidSignatureMethod = "InvalidSignatureMethod"
	codeInvalidContentType     = "InvalidContentType"
	codeMissingBodyRawSize     = "MissingBodyRawSize"
	codeInvalidBodyRawSize     = "InvalidBodyRawSize"
	codeInvalidCompressType    = "InvalidCompressType"
	codePostBodyInvalid        = "PostBodyInvalid"
	codePostBodyTooLarge       = "PostBodyTooLarge"
	codePostBodyUncompress     = "PostBodyUncompressError"
	codeInternalServerError    = "InternalServerError"
	codeIndexConfigNotExist    = "IndexConfigNotExist"
)

// apiError is an error answered to the client as an SLS error response.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.code, e.message)
}

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON body of an error response.
type errorBody struct {
	Code    string `json:"errorCode"`
	Message string `json:"errorMessage"`
}

// writeError answers e. The request ID header is already set.
func writeError(w http.ResponseWriter, e *apiError) {
	b, err := json.Marshal(errorBody{Code: e.code, Message: e.message})
	if err != nil {
		b = []byte(`{"errorCode":"InternalServerError","errorMessage":"cannot encode error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(b)
}

// writeJSON answers 200 with v encoded as JSON.
func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}
