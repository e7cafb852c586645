// The photo box: a dropped file is submitted as if picked with the file picker, and the picked
// file's name is shown before it is sent.
const drop = document.getElementById("drop");
if (drop) {
  const input = drop.querySelector("input[type=file]");
  const chosen = document.getElementById("chosen");
  input.addEventListener("change", () => {
    chosen.textContent = input.files.length ? input.files[0].name : "";
  });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      input.form.submit();
    }
  });
}
