#include "server/openapi.h"

#include <string_view>

#include "logclf/types.h"

namespace logclf::server {

namespace {

// The fixed part of the document, written as JSON so that it reads like what is served; the version, the
// model's labels and the security requirement are filled in at start-up.
constexpr std::string_view kDocument = R"json({
  "openapi": "3.0.3",
  "info": {
    "title": "logclf",
    "version": "",
    "description": "Hybrid log classification: an ordered list of regular-expression rules, then an encoder with a logistic-regression head, then a confidence threshold below which a line is labelled Uncertain.\n\nWhen the server is started with an API key, every operation but `/health` needs the header `Authorization: Bearer KEY`. Errors are JSON objects `{\"error\": \"...\"}`."
  },
  "tags": [
    {"name": "classify", "description": "Label log lines"},
    {"name": "original", "description": "The endpoints of the original FastAPI service, with its response shapes"},
    {"name": "service", "description": "Model, health, metrics"},
    {"name": "pages", "description": "The web page, the API documentation pages and their files"}
  ],
  "paths": {
    "/v1/classify": {
      "post": {
        "tags": ["classify"],
        "operationId": "classify",
        "summary": "Classify log lines sent as JSON",
        "description": "Each record is an object with its message under `log_message`, `message`, `log` or `msg` (the first present; or the key `message_key` names) and an optional `source`. Each comes back in order as it was sent, every other field kept, with `predicted_label`, `stage`, `rule` and `confidence` set. A bad record (not an object, no string message) comes back in its place with `predicted_label` null and an `error` naming it (`logs[3]: ...`), and is counted in `errors`; with `on_error=fail` the request fails with 400 instead. A request holds at most the server's line limit (10,000 by default); above it the answer is 413.",
        "parameters": [{"$ref": "#/components/parameters/MessageKey"}, {"$ref": "#/components/parameters/OnError"}],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {"$ref": "#/components/schemas/ClassifyRequest"},
              "example": {
                "logs": [
                  {"log_message": "User User123 logged in.", "source": "ModernHR"},
                  {"log_message": "Email service experiencing issues with sending"}
                ],
                "distribution": false
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "One result per line, in order",
            "content": {
              "application/json": {
                "schema": {"$ref": "#/components/schemas/ClassifyResponse"},
                "example": {
                  "results": [
                    {"log_message": "User User123 logged in.", "source": "ModernHR", "predicted_label": "User Action",
                     "stage": "rule", "rule": "user-login-logout", "confidence": 1.0},
                    {"log_message": "Email service experiencing issues with sending",
                     "predicted_label": "Critical Error", "stage": "model", "rule": null, "confidence": 0.9312}
                  ],
                  "errors": 0
                }
              }
            },
            "headers": {"Logclf-Errors": {"$ref": "#/components/headers/Errors"}}
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"}
        }
      }
    },
    "/v1/classify/json": {
      "post": {
        "tags": ["classify"],
        "operationId": "classifyJson",
        "summary": "Classify a JSON array of records (Vector, Fluent Bit), or one record (Logstash)",
        "description": "The body is a JSON array of records, as the HTTP outputs of Vector (`codec: json`) and Fluent Bit (`format json`) send their batches, or one record. The answer is the same array (or record), each record as it was sent, every other field kept where it stands (Fluent Bit's `date`, Vector's `timestamp`), with `predicted_label` set (and `stage`, `rule`, `confidence` with `explain=true`). The message is read as for /v1/classify. A bad record is answered in its place with `predicted_label` null and an `error` (`[3]: ...`); the header Logclf-Errors counts them; with `on_error=fail` the request fails with 400 instead.",
        "parameters": [{"$ref": "#/components/parameters/Explain"}, {"$ref": "#/components/parameters/MessageKey"}, {"$ref": "#/components/parameters/OnError"}],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
              "example": [{"date": 1733529600.123, "log": "User User123 logged in.", "host": "web-1"}]
            }
          }
        },
        "responses": {
          "200": {
            "description": "The records with their labels, in order",
            "headers": {"Logclf-Errors": {"$ref": "#/components/headers/Errors"}},
            "content": {
              "application/json": {
                "schema": {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "object"}]},
                "example": [{"date": 1733529600.123, "log": "User User123 logged in.", "host": "web-1", "predicted_label": "User Action"}]
              }
            }
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"}
        }
      }
    },
    "/v1/logs": {
      "post": {
        "tags": ["classify"],
        "operationId": "otlpLogs",
        "summary": "OpenTelemetry logs (OTLP/HTTP, protobuf or JSON encoding)",
        "description": "An ExportLogsServiceRequest as the OpenTelemetry Collector's otlphttp exporter sends it: protobuf (`application/x-protobuf`, its default) or JSON (`application/json`, `encoding: json`); the answer comes in the same encoding. Each log record's message is its `body.stringValue` (or the string attribute `message_attribute` names); its source is the resource's `service.name`. The answer is an ExportLogsServiceResponse: `{}`, or `partialSuccess` with the number of records that have no string message. With `enrich=true` the answer is the request itself with attributes `log.classification` (the label), `log.classification.stage` and `log.classification.confidence` added to each classified record, so that a Collector pipeline can forward it. At most 16 MiB per request.",
        "parameters": [
          {"name": "enrich", "in": "query", "required": false, "description": "Answer with the request, its records' classification added as attributes", "schema": {"type": "boolean", "default": false}},
          {"name": "message_attribute", "in": "query", "required": false, "description": "Take each record's message from this string attribute instead of its body", "schema": {"type": "string"}}
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {"type": "object", "properties": {"resourceLogs": {"type": "array", "items": {"type": "object"}}}},
              "example": {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "sshd"}}]},
                "scopeLogs": [{"logRecords": [{"timeUnixNano": "1733544000000000000", "severityText": "INFO",
                  "body": {"stringValue": "Failed password for invalid user admin from 198.51.100.23 port 52114 ssh2"}}]}]}]}
            },
            "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}
          }
        },
        "responses": {
          "200": {
            "description": "An ExportLogsServiceResponse, or with enrich the request with the classification attributes",
            "headers": {"Logclf-Errors": {"$ref": "#/components/headers/Errors"}},
            "content": {
              "application/json": {
                "schema": {"type": "object"},
                "example": {"partialSuccess": {"rejectedLogRecords": "1", "errorMessage": "resourceLogs[0].scopeLogs[0].logRecords[2]: body is not a string (body.stringValue)"}}
              },
              "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}
            }
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"},
          "415": {
            "description": "Neither application/x-protobuf nor JSON",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          }
        }
      }
    },
    "/v1/classify/csv": {
      "post": {
        "tags": ["classify"],
        "operationId": "classifyCsv",
        "summary": "Classify a CSV file",
        "description": "The CSV needs a `log_message` column; `source` is optional and every other column is kept. The answer has the columns `logclf classify` writes: the input's, then `predicted_label`, and with `explain=true` also `stage`, `rule` and `confidence`. A malformed CSV is refused with 400 naming the line.",
        "parameters": [{"$ref": "#/components/parameters/Explain"}],
        "requestBody": {
          "required": true,
          "content": {
            "multipart/form-data": {
              "schema": {"$ref": "#/components/schemas/CsvUpload"}
            },
            "text/csv": {
              "schema": {"type": "string"},
              "example": "source,log_message\nModernHR,User User123 logged in.\n"
            }
          }
        },
        "responses": {
          "200": {
            "description": "The classified CSV, as a download named after the upload",
            "headers": {
              "Content-Disposition": {
                "description": "attachment; filename=\"NAME-classified.csv\"",
                "schema": {"type": "string"}
              }
            },
            "content": {
              "text/csv": {
                "schema": {"type": "string"},
                "example": "source,log_message,predicted_label,stage,rule,confidence\nModernHR,User User123 logged in.,User Action,rule,user-login-logout,1.0000\n"
              }
            }
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"}
        }
      }
    },
    "/v1/classify/ndjson": {
      "post": {
        "tags": ["classify"],
        "operationId": "classifyNdjson",
        "summary": "Classify JSON lines, streamed",
        "description": "One JSON object per line with its message under `log_message`, `message`, `log` or `msg` (or the key `message_key` names) and an optional `source`. Each object comes back with `predicted_label` added (and `stage`, `rule`, `confidence` with `explain=true`), other fields kept, in order; the answer is streamed (chunked): the lines of each piece of the body are answered as soon as it arrives, while the rest is still being sent, and the body has no total size limit (a line has at most 16 MiB, or --max-body when smaller). The answer starts at once, so a bad line (not a JSON object, no string message) is answered in its place, as `logclf classify --on-error pass` writes it: the object (or `{\"raw\": LINE}`) with `predicted_label` null and an `error` naming the line. Blank lines get no answer. A gzip or deflate body (Content-Encoding) is decompressed as it arrives.",
        "parameters": [{"$ref": "#/components/parameters/Explain"}, {"$ref": "#/components/parameters/MessageKey"}],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-ndjson": {
              "schema": {"type": "string"},
              "example": "{\"log_message\": \"User User123 logged in.\", \"host\": \"web-1\"}\n{\"message\": \"Backup completed successfully.\"}\n"
            }
          }
        },
        "responses": {
          "200": {
            "description": "The input objects with their labels, one per line",
            "content": {
              "application/x-ndjson": {
                "schema": {"type": "string"},
                "example": "{\"log_message\": \"User User123 logged in.\", \"host\": \"web-1\",\"predicted_label\":\"User Action\"}\n{\"message\": \"Backup completed successfully.\",\"predicted_label\":\"System Notification\"}\n"
              }
            }
          },
          "400": {"$ref": "#/components/responses/BadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"}
        }
      }
    },
    "/v1/model": {
      "get": {
        "tags": ["service"],
        "operationId": "model",
        "summary": "The model being served",
        "responses": {
          "200": {
            "description": "Encoder, labels, threshold, rules and the training record",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelInfo"}}}
          },
          "401": {"$ref": "#/components/responses/Unauthorized"}
        }
      }
    },
    "/classify_log/": {
      "post": {
        "tags": ["original"],
        "operationId": "classifyLog",
        "summary": "Classify one message (the original API)",
        "parameters": [
          {"name": "log_message", "in": "query", "required": true, "schema": {"type": "string"},
           "example": "Backup completed successfully."},
          {"$ref": "#/components/parameters/Compat"}
        ],
        "responses": {
          "200": {
            "description": "The message and its label",
            "content": {
              "application/json": {
                "schema": {"$ref": "#/components/schemas/LegacyClassifyResponse"},
                "example": {"log_message": "Backup completed successfully.", "predicted_label": "System Notification"}
              }
            }
          },
          "400": {"$ref": "#/components/responses/LegacyBadRequest"},
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "422": {"$ref": "#/components/responses/FastApiValidation"}
        }
      }
    },
    "/upload_csv/": {
      "post": {
        "tags": ["original"],
        "operationId": "uploadCsv",
        "summary": "Classify a CSV upload and preview the first rows (the original API)",
        "parameters": [{"$ref": "#/components/parameters/Compat"}],
        "requestBody": {
          "required": true,
          "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/CsvUpload"}}}
        },
        "responses": {
          "200": {
            "description": "The first five rows with their labels",
            "content": {
              "application/json": {
                "schema": {"$ref": "#/components/schemas/UploadCsvResponse"},
                "example": {
                  "message": "CSV processed successfully",
                  "preview": [{"source": "ModernHR", "log_message": "User User123 logged in.", "predicted_label": "User Action"}]
                }
              }
            }
          },
          "400": {
            "description": "Not a CSV with a log_message column",
            "content": {
              "application/json": {
                "schema": {"oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/FastApiError"}]},
                "example": {"error": "CSV must contain a 'log_message' column."}
              }
            }
          },
          "401": {"$ref": "#/components/responses/Unauthorized"},
          "413": {"$ref": "#/components/responses/TooLarge"},
          "422": {"$ref": "#/components/responses/FastApiValidation"}
        }
      }
    },
    "/health": {
      "get": {
        "tags": ["service"],
        "operationId": "health",
        "summary": "Liveness check (never needs the API key)",
        "security": [],
        "responses": {
          "200": {
            "description": "The server is up",
            "content": {
              "application/json": {
                "schema": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["ok"]}}},
                "example": {"status": "ok"}
              }
            }
          }
        }
      }
    },
    "/ready": {
      "get": {
        "tags": ["service"],
        "operationId": "ready",
        "summary": "Readiness check (never needs the API key)",
        "description": "200 while the server takes requests (its model is loaded before it listens); 503 once it is stopping (SIGTERM), while the requests in flight finish, so that a load balancer sends it no more.",
        "security": [],
        "responses": {
          "200": {
            "description": "Ready",
            "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string", "enum": ["ready"]}}}, "example": {"status": "ready"}}}
          },
          "503": {
            "description": "Stopping",
            "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"type": "string", "enum": ["stopping"]}}}, "example": {"status": "stopping"}}}
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "tags": ["service"],
        "operationId": "metrics",
        "summary": "Prometheus metrics",
        "description": "Series: logclf_http_requests_total{path,method,status}, logclf_http_request_duration_seconds{path} (histogram), logclf_http_errors_total{path}, logclf_lines_total{label}, logclf_lines_by_stage_total{stage}.",
        "responses": {
          "200": {
            "description": "The Prometheus text format, version 0.0.4",
            "content": {
              "text/plain": {
                "schema": {"type": "string"},
                "example": "logclf_lines_by_stage_total{stage=\"rule\"} 42\n"
              }
            }
          },
          "401": {"$ref": "#/components/responses/Unauthorized"}
        }
      }
    },
    "/openapi.json": {
      "get": {
        "tags": ["service"],
        "operationId": "openapi",
        "summary": "This document",
        "security": [],
        "responses": {
          "200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": {"type": "object"}}}}
        }
      }
    },
    "/": {
      "get": {
        "tags": ["pages"],
        "operationId": "page",
        "summary": "The web page: upload a CSV, browse and chart the labelled lines",
        "security": [],
        "responses": {
          "200": {"$ref": "#/components/responses/Html"}
        }
      }
    },
    "/docs": {
      "get": {
        "tags": ["pages"],
        "operationId": "swaggerUi",
        "summary": "This API in Swagger UI",
        "security": [],
        "responses": {
          "200": {"$ref": "#/components/responses/Html"}
        }
      }
    },
    "/redoc": {
      "get": {
        "tags": ["pages"],
        "operationId": "redoc",
        "summary": "This API in ReDoc",
        "security": [],
        "responses": {
          "200": {"$ref": "#/components/responses/Html"}
        }
      }
    },
    "/assets/{file}": {
      "get": {
        "tags": ["pages"],
        "operationId": "asset",
        "summary": "A file of the pages (scripts, styles, images)",
        "security": [],
        "parameters": [{"name": "file", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The file", "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearerAuth": {"type": "http", "scheme": "bearer", "description": "The key given to `logclf serve --api-key` (or $LOGCLF_API_KEY)"}
    },
    "parameters": {
      "Explain": {
        "name": "explain", "in": "query", "required": false,
        "description": "Add the stage, rule and confidence of each line",
        "schema": {"type": "boolean", "default": false}
      },
      "Compat": {
        "name": "compat", "in": "query", "required": false,
        "description": "fastapi: answer errors as the original FastAPI service did (422 with a list of problems for a missing field, else {\"detail\": message})",
        "schema": {"type": "string", "enum": ["fastapi"]}
      },
      "MessageKey": {
        "name": "message_key", "in": "query", "required": false,
        "description": "The key holding each record's message (default: the first of log_message, message, log and msg). A name with a dot is also a path into nested objects: event.original finds {\"event\": {\"original\": ...}}",
        "schema": {"type": "string"}
      },
      "OnError": {
        "name": "on_error", "in": "query", "required": false,
        "description": "pass: a bad record is answered in its place with an error; fail: the request fails with 400 naming it",
        "schema": {"type": "string", "enum": ["pass", "fail"], "default": "pass"}
      }
    },
    "headers": {
      "Errors": {"description": "The number of bad records answered with an error", "schema": {"type": "integer"}}
    },
    "responses": {
      "LegacyBadRequest": {
        "description": "Malformed input: {\"error\": message}, or {\"detail\": message} with compat=fastapi (or serve --fastapi-errors)",
        "content": {
          "application/json": {
            "schema": {"oneOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/FastApiError"}]},
            "example": {"error": "query parameter 'log_message' is required"}
          }
        }
      },
      "FastApiValidation": {
        "description": "With compat=fastapi (or serve --fastapi-errors) only: a required field is missing, answered as FastAPI does (without it: 400)",
        "content": {
          "application/json": {
            "schema": {"$ref": "#/components/schemas/FastApiValidationError"},
            "example": {"detail": [{"type": "missing", "loc": ["query", "log_message"], "msg": "Field required", "input": null}]}
          }
        }
      },
      "BadRequest": {
        "description": "Malformed input; the message names the problem and the line",
        "content": {
          "application/json": {
            "schema": {"$ref": "#/components/schemas/Error"},
            "example": {"error": "body:3: unterminated quoted field"}
          }
        }
      },
      "Unauthorized": {
        "description": "The server has an API key and the request did not send it",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
      },
      "TooLarge": {
        "description": "The body, or the number of lines, is over the server's limit",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
      },
      "NotFound": {
        "description": "No such file",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
      },
      "Html": {
        "description": "An HTML page",
        "content": {"text/html": {"schema": {"type": "string"}}}
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}}
      },
      "FastApiError": {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}}
      },
      "FastApiValidationError": {
        "type": "object",
        "required": ["detail"],
        "properties": {
          "detail": {
            "type": "array",
            "items": {
              "type": "object",
              "required": ["type", "loc", "msg"],
              "properties": {
                "type": {"type": "string"},
                "loc": {"type": "array", "items": {"type": "string"}},
                "msg": {"type": "string"},
                "input": {}
              }
            }
          }
        }
      },
      "Label": {"type": "string", "description": "A label of the model, or Uncertain", "enum": []},
      "Stage": {
        "type": "string",
        "description": "rule: a rule matched; model: the head decided; uncertain: the head's top probability was below the threshold",
        "enum": ["rule", "model", "uncertain"]
      },
      "LogInput": {
        "type": "object",
        "description": "A record: its message under log_message, message, log or msg (or the key message_key names); every other field is kept in the answer",
        "additionalProperties": true,
        "properties": {
          "log_message": {"type": "string"},
          "source": {"type": "string", "nullable": true, "description": "The system the line comes from; rules may apply to some sources only"}
        }
      },
      "ClassifyRequest": {
        "type": "object",
        "required": ["logs"],
        "properties": {
          "logs": {"type": "array", "items": {"$ref": "#/components/schemas/LogInput"}},
          "distribution": {"type": "boolean", "default": false, "description": "Add the head's probability for every label to lines the head decided"}
        }
      },
      "ClassifyResult": {
        "type": "object",
        "description": "The record as it was sent, with its prediction; a bad record (`{\"raw\": TEXT}` when it is no object) has null prediction fields and an error",
        "additionalProperties": true,
        "required": ["predicted_label", "stage", "rule", "confidence"],
        "properties": {
          "predicted_label": {"allOf": [{"$ref": "#/components/schemas/Label"}], "nullable": true},
          "stage": {"allOf": [{"$ref": "#/components/schemas/Stage"}], "nullable": true},
          "rule": {"type": "string", "nullable": true, "description": "The deciding rule's name when stage is rule"},
          "confidence": {"type": "number", "nullable": true, "minimum": 0, "maximum": 1, "description": "The head's top probability (four decimals); 1 when a rule decided"},
          "error": {"type": "string", "description": "Why the record could not be classified (bad records only)"},
          "distribution": {
            "type": "object",
            "additionalProperties": {"type": "number"},
            "description": "Probability per label (only with distribution=true, for lines the head saw)"
          }
        }
      },
      "ClassifyResponse": {
        "type": "object",
        "required": ["results", "errors"],
        "properties": {
          "results": {"type": "array", "items": {"$ref": "#/components/schemas/ClassifyResult"}},
          "errors": {"type": "integer", "description": "The number of bad records"}
        }
      },
      "LegacyClassifyResponse": {
        "type": "object",
        "required": ["log_message", "predicted_label"],
        "properties": {
          "log_message": {"type": "string"},
          "predicted_label": {"$ref": "#/components/schemas/Label"}
        }
      },
      "CsvUpload": {
        "type": "object",
        "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary", "description": "A CSV with a log_message column"}}
      },
      "UploadCsvResponse": {
        "type": "object",
        "required": ["message", "preview"],
        "properties": {
          "message": {"type": "string", "enum": ["CSV processed successfully"]},
          "preview": {
            "type": "array",
            "maxItems": 5,
            "items": {
              "type": "object",
              "description": "The row's columns as strings, then predicted_label",
              "required": ["predicted_label"],
              "properties": {"predicted_label": {"$ref": "#/components/schemas/Label"}},
              "additionalProperties": {"type": "string"}
            }
          }
        }
      },
      "Rule": {
        "type": "object",
        "required": ["name", "label", "pattern", "sources"],
        "properties": {
          "name": {"type": "string"},
          "label": {"type": "string"},
          "pattern": {"type": "string", "description": "RE2 syntax, matched anywhere in the message"},
          "sources": {"type": "array", "items": {"type": "string"}, "description": "The sources the rule applies to; empty: all"}
        }
      },
      "ModelInfo": {
        "type": "object",
        "required": ["version", "encoder", "labels", "threshold", "rules", "training", "cache"],
        "properties": {
          "version": {"type": "string", "description": "logclf's version", "example": "0.1.0"},
          "encoder": {"type": "string", "example": "lexical"},
          "labels": {"type": "array", "items": {"type": "string"}},
          "threshold": {"type": "number", "example": 0.5},
          "rules": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}},
          "training": {"type": "object", "nullable": true, "description": "The training record of the bundle's logclf-model.json"},
          "cache": {"type": "string", "enum": ["off", "exact", "template"], "description": "The server's message cache (serve --cache)"}
        }
      }
    }
  }
})json";

}  // namespace

nlohmann::ordered_json openapi_document(const std::vector<std::string>& labels, bool api_key) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(kDocument);
  doc["info"]["version"] = std::string(version());
  doc["components"]["schemas"]["Label"]["enum"] = labels;
  if (api_key) {
    nlohmann::ordered_json requirement = nlohmann::ordered_json::object();
    requirement["bearerAuth"] = nlohmann::ordered_json::array();
    doc["security"] = nlohmann::ordered_json::array({requirement});
  }
  return doc;
}

}  // namespace logclf::server
