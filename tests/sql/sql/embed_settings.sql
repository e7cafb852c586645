-- Model paths are superuser-only settings, and a missing model directory is a clear ERROR.
CREATE EXTENSION fashrec;
CREATE ROLE shopper;
SET ROLE shopper;
SET fashrec.model_dir = '/tmp';
SET fashrec.onnxruntime_library = '/tmp/libevil.so';
RESET ROLE;
SET fashrec.model_dir = '/nonexistent/models';
SELECT embed_text('red dress');
SELECT 1 AS still_alive;
DROP ROLE shopper;
DROP EXTENSION fashrec;
