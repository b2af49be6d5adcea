// Empty translation unit so that the logclf_server library exists before its first source file.
